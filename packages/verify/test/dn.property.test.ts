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
    unit: fc.constantFrom(
      ...[',', '+', '"', '\\', '<', '>', ';', '#', '=', ' ', 'a', 'é', '\n', '\0', '日'],
      ...['\u0080', '\u009b', '\u200e', '\u202e', '\u2066', '\u2069', '\ufeff'],
    ),
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

/** ASCII letters only: the case dnEquals ignores. */
const asciiUpper = (v: string) => v.replace(/[a-z]+/g, (run) => run.toUpperCase());

test('formatDn is stable and dnEquals holds across ASCII case changes and re-ordered multi-valued RDNs', () => {
  fc.assert(
    fc.property(rdns, (x) => {
      const s = formatDn(x);
      assert.equal(formatDn(parseDn(s)), s);
      assert.ok(dnEquals(s, x));
      const shuffled = x.map((rdn) =>
        rdn
          .slice()
          .reverse()
          .map((e) => ({ type: e.type.toLowerCase(), value: asciiUpper(e.value) })),
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

test('value comparison: the ASCII fast path decides as the full rule does', () => {
  // The reference: canonical decomposition, trim, whitespace runs folded to one space, ASCII letters
  // lower-cased, NFC; every other character compared exactly, so no Unicode case mapping applies.
  const fold = (v: string) =>
    v
      .normalize('NFD')
      .trim()
      .replace(/\s+/g, ' ')
      .replace(/[A-Z]/g, (c) => c.toLowerCase())
      .normalize('NFC');
  const text = fc.string({
    unit: fc.constantFrom(
      'a',
      'A',
      'z',
      'Z',
      'i',
      'I',
      ' ',
      '  ',
      '\t',
      'ß',
      'SS',
      'é',
      'É',
      'e\u0301',
      'E\u0301',
      'K',
      '\u212a',
      '\u0131',
      '\u0130',
      '-',
      '9',
    ),
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

test('a value that differs outside ASCII never equals its ASCII look-alike', () => {
  // Characters whose Unicode case mappings (or base letter) are ASCII. The Kelvin sign is not one:
  // it is canonically equivalent to K, the same text once normalised.
  const odd = fc.constantFrom('\u0131', '\u0130', '\u017f', '\u00df', '\ufb00', '\ufb03', '\ufb06');
  const ascii = fc.string({ unit: fc.constantFrom('a', 'd', 'm', 'n', 's', 'i', 'f'), maxLength: 6 });
  const isAscii = (v: string) => /^[\x20-\x7e]*$/.test(v);
  fc.assert(
    fc.property(ascii, odd, ascii, (before, c, after) => {
      const dn = (v: string): Rdn[] => [[{ type: 'CN', value: v }]];
      const base = c.normalize('NFD').replace(/\p{M}/gu, '');
      for (const m of [c.toLowerCase(), c.toUpperCase(), c.toUpperCase().toLowerCase(), base].filter(isAscii)) {
        assert.equal(dnEquals(dn(before + c + after), dn(before + m + after)), false, `${c} vs ${m}`);
      }
    }),
    RUNS,
  );
});
