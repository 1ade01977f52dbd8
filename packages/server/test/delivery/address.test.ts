import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { forbiddenAddressReason, sameAddress, unmapIPv4 } from '../../src/delivery/address.ts';

// Written from the IANA special-purpose registries independently of the implementation's table.
const FORBIDDEN_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const FORBIDDEN_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2001:2::', 48],
  ['3fff::', 20],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
];

const toV4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const v4Num = (s: string) => s.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
const anyV4 = fc.integer({ min: 0, max: 0xffffffff }).map(toV4);
const groups = (bytes: number[]) =>
  Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':');

function inV4Cidr(base: string, prefix: number) {
  return fc.integer({ min: 0, max: 2 ** (32 - prefix) - 1 }).map((off) => toV4((v4Num(base) + off) >>> 0));
}

function inV6Cidr(base: string, prefix: number) {
  const baseBytes = v6Bytes(base);
  return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((rand) => {
    const out = baseBytes.slice();
    for (let bit = prefix; bit < 128; bit++) {
      const byte = bit >> 3;
      const mask = 0x80 >> (bit & 7);
      out[byte] = (out[byte]! & ~mask) | (rand[byte]! & mask);
    }
    return groups(out);
  });
}

function v6Bytes(s: string): number[] {
  const [head = '', tail = ''] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const all = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 255];
  });
}

test('every address inside a forbidden IPv4 range is refused', () => {
  for (const [base, prefix] of FORBIDDEN_V4) {
    fc.assert(
      fc.property(inV4Cidr(base, prefix), (ip) => forbiddenAddressReason(ip) !== undefined),
      { numRuns: 200 },
    );
  }
});

test('every address inside a forbidden IPv6 range is refused', () => {
  for (const [base, prefix] of FORBIDDEN_V6) {
    fc.assert(
      fc.property(inV6Cidr(base, prefix), (ip) => forbiddenAddressReason(ip) !== undefined),
      { numRuns: 200 },
    );
  }
});

test('IPv4 outside every forbidden range is allowed (checked against node:net BlockList)', () => {
  const list = new BlockList();
  for (const [base, prefix] of FORBIDDEN_V4) list.addSubnet(base, prefix, 'ipv4');
  fc.assert(
    fc.property(anyV4, (ip) => (forbiddenAddressReason(ip) === undefined) === !list.check(ip, 'ipv4')),
    { numRuns: 5000 },
  );
});

test('IPv4-mapped, NAT64 and 6to4 forms agree with the IPv4 address they lead to', () => {
  fc.assert(
    fc.property(anyV4, (ip) => {
      const n = v4Num(ip);
      const hi = (n >>> 16).toString(16);
      const lo = (n & 0xffff).toString(16);
      const allowed = forbiddenAddressReason(ip) === undefined;
      assert.equal(forbiddenAddressReason(`::ffff:${ip}`) === undefined, allowed, `::ffff:${ip}`);
      assert.equal(forbiddenAddressReason(`::ffff:${hi}:${lo}`) === undefined, allowed);
      assert.equal(forbiddenAddressReason(`64:ff9b::${ip}`) === undefined, allowed);
      assert.equal(forbiddenAddressReason(`2002:${hi}:${lo}::1`) === undefined, allowed);
      assert.equal(unmapIPv4(`::ffff:${ip}`), ip);
    }),
    { numRuns: 3000 },
  );
});

test('IPv4-compatible and Teredo forms embedding a forbidden IPv4 are refused', () => {
  const forbiddenV4 = fc.oneof(...FORBIDDEN_V4.map(([b, p]) => inV4Cidr(b, p)));
  fc.assert(
    fc.property(forbiddenV4, anyV4, (bad, other) => {
      const n = v4Num(bad);
      const inv = ~n >>> 0;
      const o = v4Num(other);
      assert.ok(forbiddenAddressReason(`::${bad}`), `::${bad}`);
      const teredoClient = `2001:0:${(o >>> 16).toString(16)}:${(o & 0xffff).toString(16)}:0:0:${(inv >>> 16).toString(16)}:${(inv & 0xffff).toString(16)}`;
      assert.ok(forbiddenAddressReason(teredoClient), teredoClient);
      const teredoServer = `2001:0:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}::1`;
      assert.ok(forbiddenAddressReason(teredoServer), teredoServer);
    }),
    { numRuns: 1000 },
  );
});

test('the classifier never throws and answers a string or undefined for any input', () => {
  const input = fc.oneof(
    fc.string(),
    fc.ipV4(),
    fc.ipV6(),
    fc.ipV4Extended(),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.%[]fF'.split('')), maxLength: 45 }),
  );
  fc.assert(
    fc.property(input, (s) => {
      const r = forbiddenAddressReason(s);
      return r === undefined || (typeof r === 'string' && r.length > 0);
    }),
    { numRuns: 5000 },
  );
});

test('known cases', () => {
  for (const ok of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])
    assert.equal(forbiddenAddressReason(ok), undefined, ok);
  const refused: [string, RegExp][] = [
    ['169.254.169.254', /link-local/],
    ['::ffff:169.254.169.254', /IPv4-mapped.*link-local/],
    ['::ffff:a9fe:a9fe', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fd12:3456::1', /unique local/],
    ['100.127.255.255', /CGNAT/],
    ['255.255.255.255', /broadcast/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['2002:a00:1::', /6to4.*10\.0\.0\.1/],
    ['64:ff9b::127.0.0.1', /NAT64.*loopback/],
    ['0177.0.0.1', /not an IP/],
    ['localhost', /not an IP/],
  ];
  for (const [ip, why] of refused) assert.match(forbiddenAddressReason(ip) ?? '', why, ip);
});

test('sameAddress compares parsed addresses, not their spelling', () => {
  const same: [string, string][] = [
    ['::1', '0:0:0:0:0:0:0:1'],
    ['::1', '0000:0000:0000:0000:0000:0000:0000:0001'],
    ['2606:4700::6810:84E5', '2606:4700:0:0:0:0:6810:84e5'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', '::ffff:127.0.0.1'],
    ['fe80::1%eth0', 'fe80:0::1'],
    ['10.1.2.3', '10.1.2.3'],
  ];
  for (const [a, b] of same) {
    assert.equal(sameAddress(a, b), true, `${a} = ${b}`);
    assert.equal(sameAddress(b, a), true, `${b} = ${a}`);
  }
  const different: [string, string][] = [
    ['::1', '::2'],
    ['::1', '127.0.0.1'],
    ['::127.0.0.1', '127.0.0.1'],
    ['10.1.2.3', '10.1.2.4'],
    ['', ''],
    ['localhost', 'localhost'],
    ['::1', ''],
  ];
  for (const [a, b] of different) assert.equal(sameAddress(a, b), false, `${a} ≠ ${b}`);
});

test('sameAddress: any IPv6 spelling equals the canonical form the WHATWG URL parser gives it, padded or not', () => {
  // Written apart from address.ts: expand the URL parser's `::` and pad every group to four digits.
  const padded = (canonical: string) => {
    const [head = '', tail] = canonical.split('::');
    const groups = (part: string) => (part === '' ? [] : part.split(':'));
    const left = groups(head);
    const right = tail === undefined ? [] : groups(tail);
    const zeros = new Array<string>(8 - left.length - right.length).fill('0');
    return [...left, ...zeros, ...right].map((g) => g.padStart(4, '0')).join(':');
  };
  fc.assert(
    fc.property(fc.ipV6(), (ip) => {
      const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
      return sameAddress(ip, canonical) && sameAddress(ip, padded(canonical));
    }),
    { numRuns: 2000 },
  );
});
