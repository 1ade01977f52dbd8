import { test } from 'node:test';
import fc from 'fast-check';
import { decryptHandshakeRecords } from '../../src/delivery/tls13.ts';

// Correct decryption is exercised on real handshakes in facts-vs-wire.test.ts; here: garbage in,
// no throw and nothing out.
test('TLS 1.3 record decryption rejects garbage without throwing', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0x1301, 0x1302, 0x1303, 0x1304, 0),
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 4 }),
      (suite, secret, frags) => {
        const out = decryptHandshakeRecords(
          suite,
          Buffer.from(secret),
          frags.map((f) => ({ header: Buffer.from([23, 3, 3, 0, f.length]), fragment: Buffer.from(f) })),
        );
        return out === undefined || out.length === 0;
      },
    ),
    { numRuns: 300 },
  );
});
