import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, test } from 'node:test';
import { createHierarchy } from '@hookwarden/pki';
import fc from 'fast-check';
import { dnEquals, dnFromDer, formatDn, namesFromCertificateDer, parseDn, type Rdn } from '../src/dn.ts';
import { HookwardenError } from '../src/errors.ts';

const RUNS = { numRuns: 300 };

const type = fc.oneof(
  fc.constantFrom('CN', 'O', 'OU', 'C', 'L', 'ST', 'DC', 'UID', 'emailAddress', 'serialNumber', 'title'),
  fc
    .tuple(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 39 }),
      fc.array(fc.nat({ max: 100_000 }), { maxLength: 4 }),
    )
    .map(([a, b, rest]) => [a, b, ...rest].join('.'))
    .filter(
      (oid) => !oid.startsWith('2.5.4.') && !oid.startsWith('1.2.840.113549.1.9.1') && !oid.startsWith('0.9.2342'),
    ),
);
// Values that stress the escapes: specials, spaces at the ends, '#', controls, non-ASCII.
const value = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom(',', '+', '"', '\\', '<', '>', ';', '#', '=', ' ', 'a', 'é', '\n', '\0', '日'),
    maxLength: 10,
  }),
);
const rdns: fc.Arbitrary<Rdn[]> = fc.array(
  fc.array(
    fc.tuple(type, value).map(([t, v]) => ({ type: t, value: v })),
    { minLength: 1, maxLength: 3 },
  ),
  {
    maxLength: 5,
  },
);

test('parseDn(formatDn(x)) is x', () => {
  fc.assert(
    fc.property(rdns, (x) => {
      assert.deepEqual(parseDn(formatDn(x)), x);
    }),
    RUNS,
  );
});

test('formatDn is stable and dnEquals holds across case changes and re-ordered multi-valued RDNs', () => {
  fc.assert(
    fc.property(rdns, (x) => {
      const s = formatDn(x);
      assert.equal(formatDn(parseDn(s)), s);
      assert.ok(dnEquals(s, x));
      const shuffled = x.map((rdn) =>
        rdn
          .slice()
          .reverse()
          .map((e) => ({ type: e.type.toLowerCase(), value: e.value.toUpperCase() })),
      );
      assert.ok(dnEquals(shuffled, x));
    }),
    RUNS,
  );
});

function onlyOurErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof HookwardenError)) throw err;
    assert.match(err.code, /^HW_DN_(DER_)?INVALID$/);
  }
}

test('parseDn throws nothing but HookwardenError on arbitrary strings', () => {
  const alphabet = fc.constantFrom(
    'C',
    'N',
    '=',
    ',',
    '+',
    '\\',
    '#',
    '0',
    'c',
    '3',
    'A',
    ' ',
    '"',
    ';',
    'é',
    '.',
    '1',
  );
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: alphabet, maxLength: 40 })),
      (s) => onlyOurErrors(() => parseDn(s)),
    ),
    { numRuns: 2000 },
  );
});

let certDer: Uint8Array;
before(async () => {
  const h = await createHierarchy({ subject: 'CN=a+UID=1,OU=x\\,y,O=Example,C=US' });
  certDer = new X509Certificate(h.leaf.certPem).raw;
});

test('the DER readers throw nothing but HookwardenError on arbitrary or corrupted bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      onlyOurErrors(() => dnFromDer(bytes));
      onlyOurErrors(() => namesFromCertificateDer(bytes));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      (edits, cut) => {
        const bytes = Uint8Array.from(certDer);
        for (const [at, b] of edits) bytes[at % bytes.length] = b;
        onlyOurErrors(() => namesFromCertificateDer(bytes));
        onlyOurErrors(() => namesFromCertificateDer(bytes.subarray(0, cut % bytes.length)));
      },
    ),
    { numRuns: 2000 },
  );
});

test('value comparison: the ASCII fast path decides as full Unicode folding does', () => {
  // The reference: NFC, upper then lower case, NFC, trim, whitespace runs folded to one space.
  const fold = (v: string) =>
    v.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC').trim().replace(/\s+/g, ' ');
  const text = fc.string({
    unit: fc.constantFrom('a', 'A', 'z', 'Z', ' ', '  ', '\t', 'ß', 'SS', 'é', 'e\u0301', 'K', '\u212a', '-', '9'),
    maxLength: 8,
  });
  fc.assert(
    fc.property(text, text, (a, b) => {
      const dn = (v: string): Rdn[] => [[{ type: 'CN', value: v }]];
      assert.equal(dnEquals(dn(a), dn(b)), fold(a) === fold(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }),
    RUNS,
  );
});
