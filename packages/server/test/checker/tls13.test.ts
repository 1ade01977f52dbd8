import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { HANDSHAKE, readEncryptedFlight, serverHandshakeSecret, type TlsRecord } from '../../src/checker/handshake.ts';

// The sending side of RFC 8446 §5.2 / §7.3, written out separately to exercise the reader.
const SUITES = {
  4865: { cipher: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  4866: { cipher: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  4867: { cipher: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 },
} as const;

function hkdfExpandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from([0, length, full.length]), full, Buffer.from([0])]);
  return createHmac(hash, secret)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest()
    .subarray(0, length);
}

function encryptRecords(suiteId: keyof typeof SUITES, secret: Buffer, plaintexts: Buffer[]): TlsRecord[] {
  const suite = SUITES[suiteId];
  const key = hkdfExpandLabel(suite.hash, secret, 'key', suite.keyLength);
  const iv = hkdfExpandLabel(suite.hash, secret, 'iv', 12);
  return plaintexts.map((content, seq) => {
    const inner = Buffer.concat([content, Buffer.from([22]), Buffer.alloc(seq % 3)]);
    const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 0xff]);
    const nonce = Buffer.from(iv);
    nonce[11]! ^= seq;
    const cipher = createCipheriv(suite.cipher, key, nonce, { authTagLength: 16 } as never) as unknown as {
      setAAD(b: Buffer): void;
      update(b: Buffer): Buffer;
      final(): Buffer;
      getAuthTag(): Buffer;
    };
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
    return { type: 23, header, payload: body };
  });
}

const message = (type: number, body: Buffer) =>
  Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);

test('the encrypted server flight decrypts with the handshake secret, for every TLS 1.3 suite', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0x1301, 0x1302, 0x1303),
      fc.uint8Array({ minLength: 0, maxLength: 600 }),
      fc.integer({ min: 1, max: 200 }),
      (suite, certBytes, split) => {
        const secret = randomBytes(suite === 0x1302 ? 48 : 32);
        const stream = Buffer.concat([
          message(HANDSHAKE.encryptedExtensions, Buffer.from([0, 0])),
          message(HANDSHAKE.certificateRequest, Buffer.from([0, 0, 0])),
          message(HANDSHAKE.certificate, Buffer.from(certBytes)),
          message(HANDSHAKE.finished, Buffer.alloc(32, 1)),
        ]);
        const chunks: Buffer[] = [];
        for (let i = 0; i < stream.length; i += split) chunks.push(stream.subarray(i, i + split));
        const records = encryptRecords(suite as keyof typeof SUITES, secret, chunks);
        // Application data after Finished is under other keys: it must stop the reading, not break it.
        records.push({ type: 23, header: Buffer.from([23, 3, 3, 0, 40]), payload: randomBytes(40) });
        const messages = readEncryptedFlight(records, suite, secret);
        assert.deepEqual(
          messages.map((m) => m.type),
          [8, 13, 11, 20],
        );
        assert.deepEqual(messages[2]!.body, Buffer.from(certBytes));
      },
    ),
    { numRuns: 60 },
  );
});

test('a wrong secret or an unknown suite yields no messages', () => {
  const secret = randomBytes(32);
  const records = encryptRecords(0x1301, secret, [message(HANDSHAKE.encryptedExtensions, Buffer.from([0, 0]))]);
  assert.deepEqual(readEncryptedFlight(records, 0x1301, randomBytes(32)), []);
  assert.deepEqual(readEncryptedFlight(records, 0x1304, secret), []);
});

test('the server handshake secret is picked from NSS key-log lines', () => {
  const hex = randomBytes(32).toString('hex');
  const lines = [
    `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${'ab'.repeat(32)} ${'cd'.repeat(32)}`,
    `SERVER_HANDSHAKE_TRAFFIC_SECRET ${'ab'.repeat(32)} ${hex}\n`,
  ];
  assert.equal(serverHandshakeSecret(lines)?.toString('hex'), hex);
  assert.equal(serverHandshakeSecret(['garbage', 'SERVER_HANDSHAKE_TRAFFIC_SECRET x zz']), undefined);
});
