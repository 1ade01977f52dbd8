import { createDecipheriv, createHmac } from 'node:crypto';

/**
 * Just enough of TLS 1.3's record protection (RFC 8446 §5.2, §7.1, §7.3) to read handshake messages
 * back from the wire with a traffic secret OpenSSL hands out through the `keylog` event. Node says
 * little about a handshake (nodejs/node#40008); the endpoint checker reads the receiver's flight
 * with it, and the delivery tests check the client's certificate facts against the wire with it.
 */
interface Suite {
  cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  hash: 'sha256' | 'sha384';
  keyLength: number;
}

const SUITES: Record<number, Suite> = {
  4865: { cipher: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  4866: { cipher: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  4867: { cipher: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 },
};

/** HKDF-Expand-Label for outputs no longer than one hash block (keys and IVs). */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 255, full.length]), full, Buffer.from([0])]);
  return createHmac(hash, secret)
    .update(info)
    .update(Buffer.from([1]))
    .digest()
    .subarray(0, length);
}

/**
 * Decrypts consecutive records protected with one traffic secret (sequence numbers from 0) and
 * returns the concatenated plaintext of those whose inner content type is handshake (22). Stops at
 * the first record that does not decrypt: that is where the next key takes over.
 */
export function decryptHandshakeRecords(
  suiteId: number,
  secret: Buffer,
  records: readonly { header: Buffer; fragment: Buffer }[],
): Buffer | undefined {
  const suite = SUITES[suiteId];
  if (!suite) return undefined;
  const key = expandLabel(suite.hash, secret, 'key', suite.keyLength);
  const iv = expandLabel(suite.hash, secret, 'iv', 12);
  const out: Buffer[] = [];
  let seq = 0;
  for (const { header, fragment } of records) {
    if (fragment.length < 17) break;
    const nonce = Buffer.from(iv);
    for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Number((BigInt(seq) >> BigInt(8 * i)) & 255n);
    try {
      const decipher =
        suite.cipher === 'chacha20-poly1305'
          ? createDecipheriv(suite.cipher, key, nonce, { authTagLength: 16 })
          : createDecipheriv(suite.cipher, key, nonce, { authTagLength: 16 });
      decipher.setAAD(header, { plaintextLength: fragment.length - 16 });
      decipher.setAuthTag(fragment.subarray(fragment.length - 16));
      const plain = Buffer.concat([decipher.update(fragment.subarray(0, fragment.length - 16)), decipher.final()]);
      let end = plain.length;
      while (end > 0 && plain[end - 1] === 0) end--;
      if (end > 0 && plain[end - 1] === 22) out.push(plain.subarray(0, end - 1));
    } catch {
      break;
    }
    seq++;
  }
  return Buffer.concat(out);
}
