import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { decryptHandshakeRecords } from '../../src/delivery/tls13.ts';

/**
 * Test fixture: the wire-level truth the client's cheap signal is checked against. Reads the first
 * bytes of a TLS connection in both directions: whether the receiver requested a client certificate
 * and whether ours went out. TLS 1.2 carries both in plaintext handshake messages (the server's
 * CertificateRequest, our Certificate). In TLS 1.3 they are encrypted: our own Certificate message
 * is read back by decrypting our first records with the client handshake secret from the `keylog`
 * event. Pure and total: any bytes, no throw.
 */
const CAPTURE_LIMIT = 64 * 1024;
const MAX_ENCRYPTED_RECORDS = 6;

const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;
const HS_CERTIFICATE_REQUEST = 13;
const HS_FINISHED = 20;
const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;

interface RecordStream {
  pending: Buffer;
  bytes: number;
  done: boolean;
  plaintextOver: boolean;
  handshake: Buffer;
}

export interface HandshakeFacts {
  serverHelloSeen: boolean;
  version?: 'TLSv1.2' | 'TLSv1.3';
  /** Plaintext alert from the receiver before encryption started (description code). */
  alert?: number;
  certificateRequested?: boolean;
  clientCertificateSent?: boolean;
}

export class HandshakeObserver {
  private readonly client: RecordStream = newStream();
  private readonly server: RecordStream = newStream();
  private readonly encrypted: { header: Buffer; fragment: Buffer }[] = [];
  private clientHandshakeSecret: Buffer | undefined;
  private suite: number | undefined;
  private tls13 = false;
  private serverHello = false;
  private certificateRequestSeen = false;
  private alert: number | undefined;
  private result: HandshakeFacts | undefined;

  /** Bytes we sent. */
  clientBytes(chunk: Buffer): void {
    if (!this.client.done) this.feed(this.client, chunk, (t, h, f) => this.onClientRecord(t, h, f));
  }

  /** Bytes the receiver sent. */
  serverBytes(chunk: Buffer): void {
    if (!this.server.done) this.feed(this.server, chunk, (t, h, f) => this.onServerRecord(t, h, f));
  }

  /** Hand the TLS socket's `keylog` lines here. */
  keylog(line: Buffer): void {
    const [label, , secret] = line.toString('latin1').trim().split(' ');
    if (label === 'CLIENT_HANDSHAKE_TRAFFIC_SECRET' && secret) this.clientHandshakeSecret = Buffer.from(secret, 'hex');
  }

  /** What the handshake showed so far; final once the handshake completed and our flight went out. */
  facts(): HandshakeFacts {
    if (this.result) return this.result;
    const facts: HandshakeFacts = { serverHelloSeen: this.serverHello };
    if (this.alert !== undefined) facts.alert = this.alert;
    if (this.serverHello) facts.version = this.tls13 ? 'TLSv1.3' : 'TLSv1.2';
    let certificate: Buffer | undefined;
    let finished = false;
    if (this.serverHello && !this.tls13) {
      facts.certificateRequested = this.certificateRequestSeen;
      certificate = findMessage(this.client.handshake, HS_CERTIFICATE);
      finished = this.client.plaintextOver;
    } else if (this.tls13 && this.clientHandshakeSecret && this.suite !== undefined) {
      const plain = decryptHandshakeRecords(this.suite, this.clientHandshakeSecret, this.encrypted);
      if (plain) {
        certificate = findMessage(plain, HS_CERTIFICATE);
        finished = findMessage(plain, HS_FINISHED) !== undefined;
      }
    }
    if (certificate || finished) {
      if (this.tls13) facts.certificateRequested = certificate !== undefined;
      facts.clientCertificateSent = certificate !== undefined && certificateListLength(certificate, this.tls13) > 0;
    }
    if (finished) {
      this.result = facts;
      this.encrypted.length = 0;
      this.clientHandshakeSecret = undefined;
      this.client.done = this.server.done = true;
      this.client.handshake = this.server.handshake = Buffer.alloc(0);
    }
    return facts;
  }

  private feed(
    s: RecordStream,
    chunk: Buffer,
    onRecord: (type: number, header: Buffer, fragment: Buffer) => void,
  ): void {
    s.bytes += chunk.length;
    if (s.bytes > CAPTURE_LIMIT) {
      s.done = true;
      return;
    }
    let buf = s.pending.length ? Buffer.concat([s.pending, chunk]) : chunk;
    while (buf.length >= 5 && !s.done) {
      const len = buf.readUInt16BE(3);
      if (buf.length < 5 + len) break;
      onRecord(buf[0]!, buf.subarray(0, 5), buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    s.pending = Buffer.from(buf);
  }

  private onClientRecord(type: number, header: Buffer, fragment: Buffer): void {
    const c = this.client;
    if (type === CT_HANDSHAKE && !c.plaintextOver) c.handshake = Buffer.concat([c.handshake, fragment]);
    else if (type === CT_CHANGE_CIPHER_SPEC) c.plaintextOver = true;
    else if (type === CT_APPLICATION_DATA) {
      c.plaintextOver = true;
      this.encrypted.push({ header: Buffer.from(header), fragment: Buffer.from(fragment) });
      if (this.encrypted.length >= MAX_ENCRYPTED_RECORDS) c.done = true;
    }
  }

  private onServerRecord(type: number, _header: Buffer, fragment: Buffer): void {
    const s = this.server;
    if (type === CT_ALERT && fragment.length >= 2) this.alert = fragment[1];
    if (type !== CT_HANDSHAKE) {
      if (type === CT_CHANGE_CIPHER_SPEC || type === CT_APPLICATION_DATA) s.done = true;
      return;
    }
    s.handshake = Buffer.concat([s.handshake, fragment]);
    for (;;) {
      if (s.handshake.length < 4) return;
      const len = s.handshake.readUIntBE(1, 3);
      if (s.handshake.length < 4 + len) return;
      const msgType = s.handshake[0]!;
      const body = s.handshake.subarray(4, 4 + len);
      if (msgType === HS_SERVER_HELLO) this.onServerHello(body);
      if (msgType === HS_CERTIFICATE_REQUEST) this.certificateRequestSeen = true;
      s.handshake = s.handshake.subarray(4 + len);
    }
  }

  private onServerHello(body: Buffer): void {
    this.serverHello = true;
    try {
      let p = 2 + 32;
      p += 1 + body[p]!;
      this.suite = body.readUInt16BE(p);
      p += 3;
      if (p + 2 > body.length) return;
      const end = p + 2 + body.readUInt16BE(p);
      p += 2;
      while (p + 4 <= end) {
        const type = body.readUInt16BE(p);
        const len = body.readUInt16BE(p + 2);
        if (type === 43 && len === 2) this.tls13 = body.readUInt16BE(p + 4) === 0x0304;
        p += 4 + len;
      }
    } catch {
      // A truncated ServerHello makes the handshake fail anyway; the facts stay partial.
    }
  }
}

function newStream(): RecordStream {
  return { pending: Buffer.alloc(0), bytes: 0, done: false, plaintextOver: false, handshake: Buffer.alloc(0) };
}

/** The body of the first handshake message of `type` in a stream of handshake messages. */
function findMessage(stream: Buffer, type: number): Buffer | undefined {
  let p = 0;
  while (p + 4 <= stream.length) {
    const len = stream.readUIntBE(p + 1, 3);
    if (p + 4 + len > stream.length) return undefined;
    if (stream[p] === type) return stream.subarray(p + 4, p + 4 + len);
    p += 4 + len;
  }
  return undefined;
}

/** Length of the certificate_list of a Certificate message (TLS 1.3 adds a request context first). */
function certificateListLength(body: Buffer, tls13: boolean): number {
  const p = tls13 ? 1 + (body[0] ?? 0) : 0;
  return p + 3 <= body.length ? body.readUIntBE(p, 3) : 0;
}

/** A pass-through stream between a TCP socket and TLS that shows every byte to an observer. */
export class HandshakeTap extends Duplex {
  private readonly raw: Socket;
  readonly observer = new HandshakeObserver();

  constructor(raw: Socket) {
    super({ allowHalfOpen: false });
    this.raw = raw;
    raw.on('data', (chunk: Buffer) => {
      this.observer.serverBytes(chunk);
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.observer.clientBytes(chunk);
    this.raw.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }
}
