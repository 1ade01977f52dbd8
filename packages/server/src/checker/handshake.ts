import { decryptHandshakeRecords } from '../delivery/tls13.ts';
import { CHECK_ERROR_CODES, CheckError } from './errors.ts';

/**
 * Reads the server's side of a TLS handshake from the raw bytes on the wire. Node has no API that
 * says whether the server sent a CertificateRequest, nor which certificates it sent in which order
 * (getPeerCertificate completes the chain from the local trust store), so the checker reads them
 * itself: in TLS 1.2 they are plaintext. TLS 1.3 encrypts them, but the checker is the client: it
 * knows the handshake secrets (Node hands them out through the `keylog` event) and decrypts its own
 * connection's server flight with the delivery client's record decryption (RFC 8446 §7).
 */

export const RECORD = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;
export const HANDSHAKE = {
  serverHello: 2,
  encryptedExtensions: 8,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  finished: 20,
} as const;

export interface TlsRecord {
  type: number;
  /** The 5-byte header: TLS 1.3 uses it as the AEAD's additional data. */
  header: Buffer;
  payload: Buffer;
}

export interface HandshakeMessage {
  type: number;
  body: Buffer;
}

export interface ServerFlight {
  /** The first byte is no TLS record type: the port speaks another protocol. */
  notTls: boolean;
  /** ...and that protocol is plain HTTP. */
  plaintextHttp: boolean;
  /** Plaintext handshake messages (all of TLS 1.2's first flight; only ServerHello in TLS 1.3). */
  messages: HandshakeMessage[];
  /** Records of type application_data that follow the last ServerHello (TLS 1.3's encrypted flight). */
  encrypted: TlsRecord[];
  /** The first plaintext alert, e.g. handshake_failure (40) or protocol_version (70). */
  alert?: { level: number; description: number };
  /** The bytes ended inside a record: the connection closed or the read stopped early. */
  truncated: boolean;
}

function malformed(what: string): CheckError {
  return new CheckError(CHECK_ERROR_CODES.tlsMalformed, `malformed TLS from the server: ${what}`);
}

/** Splits bytes into TLS records; a trailing partial record is reported, not parsed. */
export function readRecords(bytes: Uint8Array): { records: TlsRecord[]; truncated: boolean } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: TlsRecord[] = [];
  let at = 0;
  while (at + 5 <= buf.length) {
    const type = buf[at]!;
    if (type < 20 || type > 24) throw malformed(`record type ${type}`);
    if (buf[at + 1] !== 3) throw malformed(`record version ${buf[at + 1]}.${buf[at + 2]}`);
    const len = buf.readUInt16BE(at + 3);
    if (len > 16384 + 2048) throw malformed(`record length ${len}`);
    if (at + 5 + len > buf.length) return { records, truncated: true };
    records.push({ type, header: buf.subarray(at, at + 5), payload: buf.subarray(at + 5, at + 5 + len) });
    at += 5 + len;
  }
  return { records, truncated: at !== buf.length };
}

/** Reassembles handshake messages that span records; returns the complete ones. */
export function readHandshakeMessages(fragments: Buffer[]): HandshakeMessage[] {
  const stream = Buffer.concat(fragments);
  const out: HandshakeMessage[] = [];
  let at = 0;
  while (at + 4 <= stream.length) {
    const len = stream.readUIntBE(at + 1, 3);
    if (at + 4 + len > stream.length) break;
    out.push({ type: stream[at]!, body: stream.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  return out;
}

export function parseServerFlight(bytes: Uint8Array): ServerFlight {
  const first = bytes[0];
  if (first !== undefined && (first < RECORD.changeCipherSpec || first > 24)) {
    const head = Buffer.from(bytes.subarray(0, 5)).toString('latin1');
    return { notTls: true, plaintextHttp: head.startsWith('HTTP/'), messages: [], encrypted: [], truncated: false };
  }
  const { records, truncated } = readRecords(bytes);
  const flight: ServerFlight = { notTls: false, plaintextHttp: false, messages: [], encrypted: [], truncated };
  let fragments: Buffer[] = [];
  let plaintextOver = false;
  for (const record of records) {
    if (record.type === RECORD.alert && flight.alert === undefined && record.payload.length === 2 && !plaintextOver) {
      flight.alert = { level: record.payload[0]!, description: record.payload[1]! };
    } else if (record.type === RECORD.changeCipherSpec && !plaintextOver) {
      // TLS 1.2 encrypts everything after ChangeCipherSpec. TLS 1.3 sends it only for middleboxes;
      // its later handshake is in application_data records, except the ServerHello after a retry.
      flight.messages.push(...readHandshakeMessages(fragments));
      fragments = [];
      const last = flight.messages[flight.messages.length - 1];
      if (!(last?.type === HANDSHAKE.serverHello && isHelloRetryRequest(last.body))) plaintextOver = true;
    } else if (record.type === RECORD.handshake && !plaintextOver) {
      fragments.push(record.payload);
    } else if (record.type === RECORD.applicationData) {
      flight.encrypted.push(record);
    }
  }
  flight.messages.push(...readHandshakeMessages(fragments));
  return flight;
}

/** A bounds-checked reader for the vectors of the TLS presentation language. */
class Reader {
  at = 0;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
  ) {}
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw malformed(`${this.what} is truncated`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  vector(lengthBytes: 1 | 2 | 3): Buffer {
    this.need(lengthBytes);
    const n = this.buf.readUIntBE(this.at, lengthBytes);
    this.at += lengthBytes;
    return this.bytes(n);
  }
  get done(): boolean {
    return this.at >= this.buf.length;
  }
}

function readList(buf: Buffer, lengthBytes: 2 | 3, what: string): Buffer[] {
  const r = new Reader(buf, what);
  const out: Buffer[] = [];
  // Each element consumes at least its length prefix, so this ends.
  while (!r.done) out.push(r.vector(lengthBytes));
  return out;
}

const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export interface ServerHello {
  /** 0x0303 for TLS 1.2, 0x0304 for TLS 1.3 (from supported_versions), 0x0301/0x0302 for 1.0/1.1. */
  version: number;
  cipherSuite: number;
  helloRetryRequest: boolean;
}

function isHelloRetryRequest(body: Buffer): boolean {
  return body.length >= 34 && body.subarray(2, 34).equals(HRR_RANDOM);
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  let version = r.u16();
  const random = r.bytes(32);
  r.vector(1);
  const cipherSuite = r.u16();
  r.u8();
  if (!r.done) {
    const ext = new Reader(r.vector(2), 'ServerHello extensions');
    while (!ext.done) {
      const type = ext.u16();
      const data = ext.vector(2);
      if (type === 43 && data.length === 2) version = data.readUInt16BE(0);
    }
  }
  return { version, cipherSuite, helloRetryRequest: random.equals(HRR_RANDOM) };
}

/** The DER-encoded distinguished names a CertificateRequest advertises (may be empty). */
export function parseCertificateRequest(body: Buffer, tls13: boolean): Buffer[] {
  const r = new Reader(body, 'CertificateRequest');
  if (!tls13) {
    r.vector(1); // certificate_types
    r.vector(2); // supported_signature_algorithms
    return readList(r.vector(2), 2, 'certificate_authorities');
  }
  r.vector(1); // certificate_request_context
  const ext = new Reader(r.vector(2), 'CertificateRequest extensions');
  while (!ext.done) {
    const type = ext.u16();
    const data = ext.vector(2);
    if (type === 47)
      return readList(new Reader(data, 'certificate_authorities').vector(2), 2, 'certificate_authorities');
  }
  return [];
}

/** The DER certificates of a Certificate message, in the order the server sent them. */
export function parseCertificateMessage(body: Buffer, tls13: boolean): Buffer[] {
  const r = new Reader(body, 'Certificate');
  if (!tls13) return readList(r.vector(3), 3, 'certificate_list');
  r.vector(1); // certificate_request_context
  const list = new Reader(r.vector(3), 'certificate_list');
  const out: Buffer[] = [];
  while (!list.done) {
    out.push(list.vector(3));
    list.vector(2); // per-certificate extensions
  }
  return out;
}

/** SERVER_HANDSHAKE_TRAFFIC_SECRET from NSS key-log lines (what Node's `keylog` event emits). */
export function serverHandshakeSecret(keylogLines: string[]): Buffer | undefined {
  for (const line of keylogLines) {
    const [label, , secret] = line.trim().split(' ');
    if (label === 'SERVER_HANDSHAKE_TRAFFIC_SECRET' && secret && /^[0-9a-f]+$/i.test(secret)) {
      return Buffer.from(secret, 'hex');
    }
  }
  return undefined;
}

/**
 * The server's encrypted TLS 1.3 handshake messages (EncryptedExtensions, CertificateRequest,
 * Certificate, CertificateVerify, Finished); empty when the secret or suite does not fit.
 */
export function readEncryptedFlight(records: TlsRecord[], cipherSuite: number, secret: Buffer): HandshakeMessage[] {
  const plain = decryptHandshakeRecords(
    cipherSuite,
    secret,
    records.map((r) => ({ header: r.header, fragment: r.payload })),
  );
  return plain ? readHandshakeMessages([plain]) : [];
}
