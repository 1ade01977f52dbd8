import { X509Certificate } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type PeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { TlsVersion } from '../delivery/ciphers.ts';
import { CheckError } from './errors.ts';
import {
  HANDSHAKE,
  type HandshakeMessage,
  parseCertificateMessage,
  parseCertificateRequest,
  parseServerFlight,
  parseServerHello,
  readEncryptedFlight,
  type ServerFlight,
  serverHandshakeSecret,
} from './handshake.ts';
import type { ClientIdentity } from './types.ts';

/** One TLS connection with a restricted configuration: the unit every part of the check is made of. */
export interface ProbeSpec {
  address: string;
  port: number;
  /** SNI; omitted for IP-literal URLs (TLS forbids IP addresses in SNI). */
  servername?: string;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** Node `ciphers` string: TLS 1.2 names and TLS 1.3 suites, colon-separated. */
  ciphers: string;
  identity?: ClientIdentity;
  ca?: string;
  /** Record the server's raw bytes to read its certificates and CertificateRequest. */
  tap?: boolean;
  /** A raw HTTP/1.1 request written after the handshake; the response head is read back. */
  request?: string;
  timeoutMs: number;
}

export type ProbeFailureKind = 'connect' | 'timeout' | 'not_tls' | 'plain_http' | 'alert' | 'closed' | 'tls';

export interface ProbeFailure {
  kind: ProbeFailureKind;
  message: string;
  /** TLS alert name (RFC 8446 §6), e.g. 'handshake_failure', 'certificate_required'. */
  alert?: string;
  /** Node's error code, so a failure can be classified the way the delivery client classifies it. */
  code?: string;
}

export interface HandshakeView {
  version: number;
  cipherSuite: number;
  /** Certificates exactly as sent, in order; undefined when they could not be read. */
  certificates?: Buffer[];
  /** DER names from the CertificateRequest; null: the server sent none; undefined: unknown. */
  certificateRequest?: Buffer[] | null;
}

export interface ProbeResult {
  /** The client finished the handshake (in TLS 1.3 the server may still reject it afterwards). */
  handshake: boolean;
  protocol?: string;
  cipher?: string;
  authorized?: boolean;
  authorizationError?: string;
  /** The peer chain as Node completed it (leaf first), when the raw bytes were not readable. */
  peerChain: Buffer[];
  view?: HandshakeView;
  failure?: ProbeFailure;
  response?: { statusCode?: number; text: string };
}

const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export function alertName(description: number): string {
  return ALERTS[description] ?? `alert_${description}`;
}

/** Node reports alerts as error codes such as ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED. */
function alertFromError(err: NodeJS.ErrnoException): string | undefined {
  const m = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(err.code ?? '');
  return m?.[1]?.toLowerCase();
}

/** OpenSSL's messages carry a hex prefix and source paths; keep the reason. */
function reasonOf(err: NodeJS.ErrnoException): string {
  const ssl = /error:[0-9A-F]+:SSL routines:[^:]*:([^:\n]+)/.exec(err.message);
  return `${err.code ?? 'error'}: ${ssl ? ssl[1] : err.message.split('\n')[0]}`;
}

function classify(err: NodeJS.ErrnoException, connected: boolean, flight: ServerFlight | undefined): ProbeFailure {
  const failure = describeFailure(err, connected, flight);
  return typeof err.code === 'string' ? { ...failure, code: err.code } : failure;
}

function describeFailure(
  err: NodeJS.ErrnoException,
  connected: boolean,
  flight: ServerFlight | undefined,
): ProbeFailure {
  if (flight?.plaintextHttp) return { kind: 'plain_http', message: 'the port answered with plain HTTP, not TLS' };
  if (flight?.notTls || err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || err.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return { kind: 'not_tls', message: 'the port does not speak TLS' };
  }
  const alert = flight?.alert ? alertName(flight.alert.description) : alertFromError(err);
  if (alert) return { kind: 'alert', alert, message: `the server sent the TLS alert ${alert}` };
  if (!connected) return { kind: 'connect', message: reasonOf(err) };
  if (err.code === 'ECONNRESET' || /socket disconnected|socket hang up/i.test(err.message)) {
    return { kind: 'closed', message: 'the server closed the connection during the handshake' };
  }
  return { kind: 'tls', message: reasonOf(err) };
}

/** Relays a TCP socket into TLS while keeping a copy of what the server sends. */
function tappedSocket(raw: Socket, sink: Buffer[]): Duplex {
  const relay = new Duplex({
    read() {},
    write(chunk, _encoding, callback) {
      raw.write(chunk, callback);
    },
    final(callback) {
      raw.end();
      callback();
    },
    destroy(err, callback) {
      raw.destroy();
      callback(err);
    },
  });
  let kept = 0;
  raw.on('data', (chunk: Buffer) => {
    // Only the handshake matters; stop copying once a reasonable flight has been seen.
    if (kept < 256 * 1024) {
      sink.push(chunk);
      kept += chunk.length;
    }
    relay.push(chunk);
  });
  raw.on('end', () => relay.push(null));
  raw.on('error', (err) => relay.destroy(err));
  return relay;
}

function walkPeerChain(socket: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let cert = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
  // Bounded: Node links a self-signed root to itself.
  for (let i = 0; i < 10 && cert?.raw; i++) {
    out.push(cert.raw);
    const next = cert.issuerCertificate as (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined;
    if (!next || next === cert || next.raw?.equals(cert.raw)) break;
    cert = next;
  }
  return out;
}

function readView(bytes: Buffer[], keylog: string[]): HandshakeView | undefined {
  const flight = parseServerFlight(Buffer.concat(bytes));
  const helloMessage = [...flight.messages].reverse().find((m) => m.type === HANDSHAKE.serverHello);
  if (!helloMessage) return undefined;
  const hello = parseServerHello(helloMessage.body);
  const tls13 = hello.version === 0x0304;
  let messages: HandshakeMessage[] = flight.messages;
  if (tls13) {
    const secret = serverHandshakeSecret(keylog);
    if (!secret) return { version: hello.version, cipherSuite: hello.cipherSuite };
    messages = readEncryptedFlight(flight.encrypted, hello.cipherSuite, secret);
    if (messages.length === 0) return { version: hello.version, cipherSuite: hello.cipherSuite };
  }
  const certificate = messages.find((m) => m.type === HANDSHAKE.certificate);
  const request = messages.find((m) => m.type === HANDSHAKE.certificateRequest);
  // The request comes before the end of the server's flight; only then is its absence a fact.
  const flightEnd = messages.some((m) => m.type === (tls13 ? HANDSHAKE.finished : HANDSHAKE.serverHelloDone));
  const view: HandshakeView = { version: hello.version, cipherSuite: hello.cipherSuite };
  if (certificate) view.certificates = parseCertificateMessage(certificate.body, tls13);
  if (request) view.certificateRequest = parseCertificateRequest(request.body, tls13);
  else if (flightEnd) view.certificateRequest = null;
  return view;
}

function statusOf(text: string): number | undefined {
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Runs one probe. Never rejects: every network outcome is described in the result. */
export function probe(spec: ProbeSpec): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const bytes: Buffer[] = [];
    const keylog: string[] = [];
    const result: ProbeResult = { handshake: false, peerChain: [] };
    let connected = false;
    let settled = false;
    let received = '';

    const raw = netConnect({ host: spec.address, port: spec.port });
    raw.once('connect', () => {
      connected = true;
    });
    raw.once('error', (err: NodeJS.ErrnoException) => finish(classify(err, connected, undefined)));
    let socket: TLSSocket;
    try {
      socket = tlsConnect({
        socket: spec.tap ? tappedSocket(raw, bytes) : raw,
        servername: spec.servername,
        minVersion: spec.minVersion,
        maxVersion: spec.maxVersion,
        ciphers: spec.ciphers,
        ca: spec.ca,
        cert: spec.identity ? spec.identity.chainPem || spec.identity.certPem : undefined,
        key: spec.identity?.keyPem,
        rejectUnauthorized: false,
        // Host-name matching is judged by the chain analysis against the URL's host, not the address.
        checkServerIdentity: () => undefined,
      });
    } catch (err) {
      // A configuration OpenSSL refuses (e.g. a suite it does not know) fails this probe only.
      raw.destroy();
      resolve({
        handshake: false,
        peerChain: [],
        failure: { kind: 'tls', message: reasonOf(err as NodeJS.ErrnoException) },
      });
      return;
    }
    if (spec.tap) socket.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));

    const finish = (failure?: ProbeFailure): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (failure) result.failure = failure;
      if (spec.tap) {
        try {
          const view = readView(bytes, keylog);
          if (view) result.view = view;
        } catch (err) {
          // A server whose bytes are not TLS is a finding, not a crash.
          if (!(err instanceof CheckError)) throw err;
          result.failure ??= { kind: 'not_tls', message: err.message };
        }
      }
      if (received) {
        result.response = { text: received.slice(0, 2048) };
        const status = statusOf(received);
        if (status !== undefined) result.response.statusCode = status;
      }
      socket.destroy();
      raw.destroy();
      resolve(result);
    };

    const timer = setTimeout(
      () => finish({ kind: 'timeout', message: `no answer within ${spec.timeoutMs} ms` }),
      spec.timeoutMs,
    );

    socket.once('secureConnect', () => {
      result.handshake = true;
      result.protocol = socket.getProtocol() ?? undefined;
      result.cipher = socket.getCipher()?.name;
      result.authorized = socket.authorized;
      if (socket.authorizationError) result.authorizationError = String(socket.authorizationError);
      try {
        result.peerChain = walkPeerChain(socket);
      } catch {
        result.peerChain = [];
      }
      if (!spec.request) return finish();
      socket.write(spec.request);
    });
    socket.on('data', (chunk: Buffer) => {
      if (received.length < 4096) received += chunk.toString('latin1');
      const head = received.indexOf('\r\n\r\n');
      if (head >= 0) {
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(received.slice(0, head));
        if (received.length >= 4096 || (length && received.length >= head + 4 + Number(length[1]))) finish();
      }
    });
    socket.once('end', () => {
      if (result.handshake && spec.request && !received) {
        finish({ kind: 'closed', message: 'the server closed the connection without answering the request' });
      } else finish();
    });
    socket.once('close', () => finish());
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const flight = spec.tap ? safeFlight(bytes) : undefined;
      finish(classify(err, connected, flight));
    });
  });
}

function safeFlight(bytes: Buffer[]): ServerFlight | undefined {
  try {
    return parseServerFlight(Buffer.concat(bytes));
  } catch {
    return undefined;
  }
}

/** A certificate's DER as a Node X509Certificate, or undefined if Node cannot read it. */
export function x509(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}
