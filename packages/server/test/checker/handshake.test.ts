import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookwardenError } from '@hookwarden/verify/errors';
import fc from 'fast-check';
import {
  HANDSHAKE,
  parseCertificateMessage,
  parseCertificateRequest,
  parseServerFlight,
  parseServerHello,
  readRecords,
} from '../../src/checker/handshake.ts';

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const vec = (len: (n: number) => Buffer, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([len(body.length), body]);
};
const message = (type: number, body: Buffer) => Buffer.concat([u8(type), u24(body.length), body]);
/** Splits a byte stream into records of at most `size` bytes, as servers may. */
const records = (type: number, stream: Buffer, size = 16384) => {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += size) {
    const chunk = stream.subarray(i, i + size);
    out.push(Buffer.concat([u8(type), Buffer.from([3, 3]), u16(chunk.length), chunk]));
  }
  return Buffer.concat(out);
};

const serverHello = (version = 0x0303, suite = 0xc02b) =>
  Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 7),
    vec(u8),
    u16(suite),
    u8(0),
    vec(u16, u16(43), vec(u16, u16(version))),
  ]);
const certificate12 = (certs: Buffer[]) => vec(u24, ...certs.map((c) => vec(u24, c)));
const certificateRequest12 = (names: Buffer[]) =>
  Buffer.concat([vec(u8, u8(1), u8(64)), vec(u16, u16(0x0403)), vec(u16, ...names.map((n) => vec(u16, n)))]);

const derLike = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a));

test('a TLS 1.2 server flight yields its certificates in order and the advertised CA names', () => {
  fc.assert(
    fc.property(
      fc.array(derLike, { minLength: 1, maxLength: 4 }),
      fc.option(fc.array(derLike, { maxLength: 4 }), { nil: undefined }),
      fc.integer({ min: 5, max: 400 }),
      (certs, names, recordSize) => {
        const stream = Buffer.concat([
          message(HANDSHAKE.serverHello, serverHello()),
          message(HANDSHAKE.certificate, certificate12(certs)),
          ...(names ? [message(HANDSHAKE.certificateRequest, certificateRequest12(names))] : []),
          message(HANDSHAKE.serverHelloDone, Buffer.alloc(0)),
        ]);
        const flight = parseServerFlight(records(22, stream, recordSize));
        assert.equal(flight.notTls, false);
        assert.deepEqual(
          flight.messages.map((m) => m.type),
          [2, 11, ...(names ? [13] : []), 14],
        );
        assert.deepEqual(parseCertificateMessage(flight.messages[1]!.body, false), certs);
        if (names) assert.deepEqual(parseCertificateRequest(flight.messages[2]!.body, false), names);
      },
    ),
  );
});

test('TLS 1.3 CertificateRequest and Certificate bodies are read', () => {
  const names = [Buffer.from('0a0b', 'hex'), Buffer.from('0c', 'hex')];
  const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), vec(u16, data)]);
  const sigAlgs = ext(13, vec(u16, u16(0x0403)));
  const authorities = ext(47, vec(u16, ...names.map((n) => vec(u16, n))));
  const request = Buffer.concat([vec(u8), vec(u16, sigAlgs, authorities)]);
  assert.deepEqual(parseCertificateRequest(request, true), names);
  const withoutNames = Buffer.concat([vec(u8), vec(u16, sigAlgs)]);
  assert.deepEqual(parseCertificateRequest(withoutNames, true), []);
  const certs = [Buffer.from('3003020101', 'hex'), Buffer.from('300102', 'hex')];
  const body = Buffer.concat([vec(u8), vec(u24, ...certs.map((c) => Buffer.concat([vec(u24, c), vec(u16)])))]);
  assert.deepEqual(parseCertificateMessage(body, true), certs);
  assert.deepEqual(parseServerHello(serverHello(0x0304, 0x1302)), {
    version: 0x0304,
    cipherSuite: 0x1302,
    helloRetryRequest: false,
  });
});

test('plain HTTP and other protocols are recognised, not parsed', () => {
  const http = parseServerFlight(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
  assert.equal(http.notTls, true);
  assert.equal(http.plaintextHttp, true);
  const ssh = parseServerFlight(Buffer.from('SSH-2.0-OpenSSH\r\n'));
  assert.deepEqual([ssh.notTls, ssh.plaintextHttp], [true, false]);
});

test('alerts, truncation and ChangeCipherSpec are handled', () => {
  const alert = Buffer.from([21, 3, 3, 0, 2, 2, 40]);
  assert.deepEqual(parseServerFlight(alert).alert, { level: 2, description: 40 });
  const partial = records(22, message(HANDSHAKE.serverHello, serverHello())).subarray(0, 20);
  assert.equal(parseServerFlight(partial).truncated, true);
  // After ChangeCipherSpec, TLS 1.2 handshake records are encrypted and must not be read as messages.
  const afterCcs = Buffer.concat([
    records(22, message(HANDSHAKE.serverHello, serverHello())),
    Buffer.from([20, 3, 3, 0, 1, 1]),
    records(22, Buffer.from([11, 0, 0, 2, 9, 9])),
  ]);
  assert.deepEqual(
    parseServerFlight(afterCcs).messages.map((m) => m.type),
    [HANDSHAKE.serverHello],
  );
});

test('after a HelloRetryRequest, the second ServerHello and the encrypted flight are read', () => {
  const hrr = Buffer.from(serverHello(0x0304, 0x1301));
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex').copy(hrr, 2);
  const flight = parseServerFlight(
    Buffer.concat([
      records(22, message(HANDSHAKE.serverHello, hrr)),
      Buffer.from([20, 3, 3, 0, 1, 1]),
      records(22, message(HANDSHAKE.serverHello, serverHello(0x0304, 0x1301))),
      Buffer.from([23, 3, 3, 0, 3, 1, 2, 3]),
    ]),
  );
  assert.deepEqual(
    flight.messages.map((m) => m.type),
    [HANDSHAKE.serverHello, HANDSHAKE.serverHello],
  );
  assert.equal(parseServerHello(flight.messages[0]!.body).helloRetryRequest, true);
  assert.equal(parseServerHello(flight.messages[1]!.body).helloRetryRequest, false);
  assert.equal(flight.encrypted.length, 1);
});

test('arbitrary bytes never make the readers throw anything but a HookwardenError', () => {
  const onlyOurs = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof HookwardenError, String(err));
      assert.equal((err as HookwardenError).code, 'HW_CHECK_TLS_MALFORMED');
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, tls13) => {
      const b = Buffer.from(bytes);
      onlyOurs(() => parseServerFlight(b));
      onlyOurs(() => readRecords(Buffer.concat([Buffer.from([22, 3, 3]), b])));
      onlyOurs(() => parseServerHello(b));
      onlyOurs(() => parseCertificateRequest(b, tls13));
      onlyOurs(() => parseCertificateMessage(b, tls13));
    }),
    { numRuns: 2000 },
  );
});
