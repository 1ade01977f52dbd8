import { createDecipheriv, createHmac } from 'node:crypto';
import { HANDSHAKE, type HandshakeMessage, readHandshakeMessages, type TlsRecord } from './handshake.ts';

/**
 * TLS 1.3 encrypts the server's CertificateRequest and Certificate. The checker is the client, so
 * it knows the handshake secrets (Node hands them out through the `keylog` event) and can decrypt
 * its own connection's server flight (RFC 8446 §7) to read them exactly instead of guessing from
 * behaviour. Only the handshake keys are used; application data is never decrypted.
 */

const SUITES: Record<
  number,
  { cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'; hash: string; keyLength: number }
> = {
  4865: { cipher: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  4866: { cipher: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  4867: { cipher: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 },
};

/** HKDF-Expand-Label with an empty context; the outputs here are shorter than one hash block. */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([0]),
    Buffer.from([1]),
  ]);
  return createHmac(hash, secret).update(info).digest().subarray(0, length);
}

/** The SERVER_HANDSHAKE_TRAFFIC_SECRET from NSS key-log lines (what Node's `keylog` event emits). */
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
 * Decrypts the server's encrypted handshake records and returns its messages (EncryptedExtensions,
 * CertificateRequest, Certificate, CertificateVerify, Finished). Stops at the first record that does
 * not decrypt with the handshake keys (application data follows the Finished message).
 */
export function decryptServerHandshake(records: TlsRecord[], cipherSuite: number, secret: Buffer): HandshakeMessage[] {
  const suite = SUITES[cipherSuite];
  if (!suite) return [];
  const key = expandLabel(suite.hash, secret, 'key', suite.keyLength);
  const iv = expandLabel(suite.hash, secret, 'iv', 12);
  const fragments: Buffer[] = [];
  let seq = 0;
  for (const record of records) {
    if (record.payload.length < 17) break;
    const nonce = Buffer.from(iv);
    for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Number((BigInt(seq) >> BigInt(8 * i)) & 0xffn);
    seq++;
    let plain: Buffer;
    try {
      const decipher = createDecipheriv(suite.cipher, key, nonce, { authTagLength: 16 } as never) as ReturnType<
        typeof createDecipheriv
      > & { setAuthTag(tag: Buffer): void; setAAD(aad: Buffer): void };
      decipher.setAAD(record.header);
      decipher.setAuthTag(record.payload.subarray(record.payload.length - 16));
      plain = Buffer.concat([
        decipher.update(record.payload.subarray(0, record.payload.length - 16)),
        decipher.final(),
      ]);
    } catch {
      break;
    }
    // TLSInnerPlaintext: content, then the real content type, then zero padding.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0 || plain[end] !== 22) break;
    fragments.push(plain.subarray(0, end));
    const messages = readHandshakeMessages(fragments);
    if (messages.some((m) => m.type === HANDSHAKE.finished)) break;
  }
  return readHandshakeMessages(fragments);
}
