import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HandshakeObserver } from './wire.ts';

// The observer reads bytes from the network: whatever arrives, it must not throw.
const record = (type: number, payload: Uint8Array) =>
  Buffer.concat([Buffer.from([type, 3, 3, payload.length >> 8, payload.length & 255]), payload]);
const handshake = (type: number, body: Uint8Array) =>
  Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 255, body.length & 255]), body]);

const chunks = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 });
const recordish = fc.array(
  fc.tuple(
    fc.constantFrom(20, 21, 22, 23, 0, 255),
    fc.constantFrom(1, 2, 11, 13, 14, 20, 0),
    fc.uint8Array({ maxLength: 120 }),
  ),
  { maxLength: 10 },
);

test('arbitrary bytes in either direction never throw', () => {
  fc.assert(
    fc.property(chunks, chunks, fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 3 }), (c, s, keylog) => {
      const o = new HandshakeObserver();
      for (let i = 0; i < Math.max(c.length, s.length); i++) {
        if (c[i]) o.clientBytes(Buffer.from(c[i]!));
        if (s[i]) o.serverBytes(Buffer.from(s[i]!));
      }
      for (const line of keylog) o.keylog(Buffer.from(line));
      const facts = o.facts();
      assert.equal(typeof facts.serverHelloSeen, 'boolean');
    }),
    { numRuns: 500 },
  );
});

test('well-framed records with random handshake bodies never throw', () => {
  fc.assert(
    fc.property(recordish, recordish, (client, server) => {
      const o = new HandshakeObserver();
      for (const [type, msg, body] of client) o.clientBytes(record(type, handshake(msg, body)));
      for (const [type, msg, body] of server) o.serverBytes(record(type, handshake(msg, body)));
      o.keylog(Buffer.from(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${'ab'.repeat(32)} ${'cd'.repeat(32)}\n`));
      o.facts();
    }),
    { numRuns: 500 },
  );
});

test('TLS 1.2: a CertificateRequest and a non-empty Certificate of ours are recognised, split across chunks', () => {
  const o = new HandshakeObserver();
  const serverHello = handshake(
    2,
    Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([0, 0xc0, 0x2b, 0])]),
  );
  const server = record(
    22,
    Buffer.concat([serverHello, handshake(13, Buffer.from([1, 1, 0, 0, 0, 0])), handshake(14, Buffer.alloc(0))]),
  );
  const certificate = handshake(11, Buffer.from([0, 0, 6, 0, 0, 3, 1, 2, 3]));
  const client = Buffer.concat([
    record(22, handshake(1, Buffer.alloc(40))),
    record(22, certificate),
    record(20, Buffer.from([1])),
  ]);
  for (let i = 0; i < server.length; i += 7) o.serverBytes(server.subarray(i, i + 7));
  for (let i = 0; i < client.length; i += 5) o.clientBytes(client.subarray(i, i + 5));
  assert.deepEqual(o.facts(), {
    serverHelloSeen: true,
    version: 'TLSv1.2',
    certificateRequested: true,
    clientCertificateSent: true,
  });
});
