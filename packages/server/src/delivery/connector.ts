import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type SecureContext, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { forbiddenAddressReason, sameAddress } from './address.ts';
import { DeliveryError } from './errors.ts';
import { addressRefusal, bareHostname, type LookupAddress, type LookupFn, resolveAllowed } from './ssrf.ts';

/**
 * The one place where delivery sockets are opened (undici's `connect` hook). It resolves the host
 * once, refuses non-global addresses, dials exactly the checked addresses, and runs TLS with SNI and
 * the certificate check against the host name from the URL — so a resolver that answers differently
 * the second time (DNS rebinding) is never asked a second time.
 */
export interface ConnectorOptions {
  secureContext: SecureContext;
  /** Key type of our client certificate (`X509Certificate.publicKey.asymmetricKeyType`); none: no identity. */
  identityKeyType?: string;
  allowPrivateTargets: boolean;
  egressAddress?: string;
  /** Each phase of opening a connection has its own limit (docs/delivery.md says why each default). */
  timeouts: ConnectTimeouts;
  lookup?: LookupFn;
}

export interface ConnectTimeouts {
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
}

type UndiciConnect = (
  opts: { hostname: string; protocol: string; port: string },
  callback: (err: Error | null, socket: Socket | null) => void,
) => void;

/**
 * Whether the receiver asked for our certificate and whether it went out. Node has no API for this
 * (nodejs/node#40008); OpenSSL's shared signature algorithms answer it: a client computes them only
 * from a CertificateRequest (TLS 1.2 and 1.3), so a non-empty list means "requested". OpenSSL then
 * sends the configured certificate if one of those algorithms fits its key, else an empty
 * Certificate message. Checked against the bytes on the wire in the tests (test/delivery/wire.ts).
 */
export interface HandshakeFacts {
  /** Keys were derived: the receiver accepted a version and suite; a later failure is about something else. */
  negotiated: boolean;
  certificateRequested?: boolean;
  clientCertificateSent?: boolean;
}

const KEY_FITS: Record<string, RegExp> = {
  ec: /^ECDSA\+/,
  rsa: /^RSA(-PSS)?\+/,
  'rsa-pss': /^RSA-PSS\+/,
  ed25519: /^Ed25519/,
  ed448: /^Ed448/,
};

interface ConnectionInfo {
  negotiated: boolean;
  /** Sticky once a CertificateRequest was seen; final at secureConnect. */
  requested?: boolean;
  /** A shared signature algorithm fits our key. */
  fits: boolean;
  /** Requests written on this connection so far. */
  requests: number;
  /** The TLS layer's own error (an alert), which undici may report only as "other side closed". */
  error?: Error;
  /** Final facts, set when the handshake completes (a resumed session's come from its full handshake). */
  facts?: HandshakeFacts;
}

const connections = new WeakMap<Socket, ConnectionInfo>();
const SESSION_CACHE_LIMIT = 1000;

/** Connection-level failures carry what the handshake showed, for classification. */
export const HANDSHAKE_FACTS = Symbol('hookwarden.handshakeFacts');

type ConnectPhase = 'dns' | 'connect' | 'tls';

const PHASE_TIMEOUTS = {
  dns: { code: 'HW_DELIVERY_DNS_TIMEOUT', what: 'the host name was not resolved' },
  connect: { code: 'HW_DELIVERY_CONNECT_TIMEOUT', what: 'the TCP connection was not established' },
  tls: { code: 'HW_DELIVERY_TLS_TIMEOUT', what: 'the TLS handshake did not complete' },
} as const;

function phaseTimeout(phase: ConnectPhase, ms: number): DeliveryError {
  const { code, what } = PHASE_TIMEOUTS[phase];
  return new DeliveryError(code, `${what} within ${ms} ms`);
}

export function buildConnector(opts: ConnectorOptions): UndiciConnect {
  // Sessions live per connector, i.e. per identity + trust + cipher policy: a session set up under
  // one client certificate or one trusted CA is never resumed under another.
  const sessions = new Map<string, { session: Buffer; facts: HandshakeFacts }>();

  return ({ hostname, protocol, port }, callback) => {
    let settled = false;
    let socket: Socket | undefined;
    let info: ConnectionInfo | undefined;
    let timer: NodeJS.Timeout | undefined;
    /** One timer, re-armed as the connection moves from one phase to the next. */
    const phase = (p: ConnectPhase) => {
      clearTimeout(timer);
      const ms = opts.timeouts[`${p}Ms`];
      timer = setTimeout(() => finish(phaseTimeout(p, ms)), ms);
    };
    const finish = (err: Error | null, s?: Socket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        if (info) Object.assign(err, { [HANDSHAKE_FACTS]: factsOf(info, opts.identityKeyType) });
        socket?.destroy();
        callback(err, null);
      } else callback(null, s ?? null);
    };
    const host = bareHostname(hostname);
    const portNumber = Number(port) || (protocol === 'https:' ? 443 : 80);

    phase('dns');
    resolveAllowed(host, { allowPrivateTargets: opts.allowPrivateTargets, lookup: opts.lookup }).then((addresses) => {
      if (settled) return;
      phase('connect');
      const raw = dial(host, addresses, portNumber, opts.egressAddress);
      socket = raw;
      raw.once('connect', () => {
        const refusal = dialledRefusal(host, raw.remoteAddress, addresses, opts.allowPrivateTargets);
        if (refusal) finish(refusal);
        else if (protocol !== 'https:') finish(null, raw);
        else if (!settled) phase('tls');
      });
      raw.on('error', (err) => finish(err));
      if (protocol !== 'https:') return;

      const sessionKey = `${host}:${portNumber}`;
      const cached = sessions.get(sessionKey);
      const conn: ConnectionInfo = { negotiated: false, fits: false, requests: 0 };
      info = conn;
      const tlsSocket: TLSSocket = tlsConnect({
        socket: raw,
        host,
        servername: isIP(host) ? undefined : host,
        secureContext: opts.secureContext,
        session: cached?.session,
        rejectUnauthorized: true,
        ALPNProtocols: ['http/1.1'],
      });
      socket = tlsSocket;
      const fit = KEY_FITS[opts.identityKeyType ?? ''] ?? /./;
      const observe = (final: boolean) => {
        const sigalgs = tlsSocket.getSharedSigalgs() ?? [];
        if (sigalgs.length > 0) {
          conn.requested = true;
          conn.fits = sigalgs.some((a) => fit.test(a));
        } else if (final) conn.requested ??= false;
      };
      // OpenSSL reports each derived secret here; the lines hold secrets and are dropped unread.
      // Only the timing is used: keys exist, so negotiation succeeded.
      tlsSocket.on('keylog', () => {
        // The first line is enough: in TLS 1.2 it follows the CertificateRequest (what a failed
        // handshake needs); in TLS 1.3 secureConnect reads the final answer.
        if (conn.negotiated) return;
        conn.negotiated = true;
        observe(false);
      });
      tlsSocket.on('session', (session: Buffer) => {
        // Our certificate flight precedes any ticket, so the facts are complete by now.
        const facts = tlsSocket.isSessionReused() && cached ? cached.facts : factsOf(conn, opts.identityKeyType);
        if (sessions.size >= SESSION_CACHE_LIMIT) sessions.delete(sessions.keys().next().value as string);
        sessions.set(sessionKey, { session, facts });
      });
      tlsSocket.once('secureConnect', () => {
        conn.negotiated = true;
        observe(true);
        // A resumed session repeats no certificate exchange: the full handshake's answer holds.
        conn.facts =
          tlsSocket.isSessionReused() && cached
            ? { ...cached.facts, negotiated: true }
            : factsOf(conn, opts.identityKeyType);
        connections.set(tlsSocket, conn);
        raw.setNoDelay(true);
        raw.setKeepAlive(true, 60_000);
        finish(null, tlsSocket);
      });
      tlsSocket.on('error', (err) => {
        conn.error ??= err;
        if (cached) sessions.delete(sessionKey);
        finish(err);
      });
    }, finish);
  };
}

/**
 * Belt and braces: judges the address the kernel actually connected to, which must be one of the
 * checked ones (compared parsed: resolvers do not all spell an address the same way) and, unless
 * private targets are allowed, public. As in `resolveAllowed`, the message names the address only
 * when the URL did; for a host name the address and the reason go to `logDetail`.
 */
export function dialledRefusal(
  host: string,
  dialled: string | undefined,
  checked: readonly LookupAddress[],
  allowPrivateTargets: boolean,
): DeliveryError | undefined {
  let why: string;
  let reason = '';
  if (!checked.some((a) => sameAddress(a.address, dialled ?? ''))) {
    why = `it is not among the addresses checked for ${host}`;
  } else {
    const forbidden = allowPrivateTargets ? undefined : forbiddenAddressReason(dialled ?? '');
    if (forbidden === undefined) return undefined;
    why = 'it is not a public address';
    reason = `: ${forbidden}`;
  }
  const full = `refused to talk to ${dialled || 'an unknown address'}: ${why}${reason}`;
  return addressRefusal(host, {
    literal: full,
    name: `refused to talk to the address dialled for ${host}: ${why}`,
    logged: `${full} (dialled for ${host})`,
  });
}

function dial(host: string, checked: LookupAddress[], port: number, localAddress: string | undefined): Socket {
  // A bound source address fixes the family; the others could not be dialled from it anyway.
  const family = localAddress ? isIP(localAddress) : 0;
  const usable = family ? checked.filter((a) => a.family === family) : checked;
  const addresses = usable.length > 0 ? usable : checked;
  const first = addresses[0]!;
  if (addresses.length === 1) return netConnect({ host: first.address, port, localAddress });
  // Several checked addresses: let Node race them (Happy Eyeballs), but only among these — the
  // lookup hook answers with the checked list instead of asking DNS again.
  return netConnect({
    host,
    port,
    localAddress,
    autoSelectFamily: true,
    lookup: ((_h: string, o: { all?: boolean }, cb: (...args: unknown[]) => void) => {
      if (o?.all) cb(null, addresses);
      else cb(null, first.address, first.family);
    }) as never,
  });
}

/** Counts a request written on `socket`; answers how many it carried including this one. */
export function countRequest(socket: Socket): number {
  const info = connections.get(socket);
  return info ? ++info.requests : 0;
}

/** What a delivery failure on `socket` should be judged by: the TLS error and the handshake. */
export function connectionContext(socket: Socket): { error?: Error; facts?: HandshakeFacts; requests: number } {
  const info = connections.get(socket);
  if (!info) return { requests: 0 };
  return { error: info.error, facts: handshakeFactsOf(socket), requests: info.requests };
}

/** What the handshake of the connection behind `socket` showed. */
export function handshakeFactsOf(socket: Socket): HandshakeFacts | undefined {
  const info = connections.get(socket);
  return info?.facts;
}

function factsOf(info: ConnectionInfo, identityKeyType: string | undefined): HandshakeFacts {
  const facts: HandshakeFacts = { negotiated: info.negotiated };
  if (info.requested !== undefined) {
    facts.certificateRequested = info.requested;
    facts.clientCertificateSent = info.requested && identityKeyType !== undefined && info.fits;
  }
  return facts;
}
