import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createHierarchy, createSelfSignedCa } from '@hookwarden/pki';
import { tempDir } from '@hookwarden/testkit';
import fc from 'fast-check';
import { dnEquals, dnFromDer, dnFromX509, formatDn, namesFromCertificateDer, parseDn, type Rdn } from '../src/dn.ts';
import { HookwardenError } from '../src/errors.ts';
import { opensslSubject } from './helpers/openssl.ts';

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

test('values compare exactly but for the case of ASCII letters', () => {
  const fold = (v: string) => v.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const text = fc.string({
    unit: fc.constantFrom(
      ...['a', 'A', 'z', 'Z', 'i', 'I', ' ', '  ', '\t', '\u00a0', '\u3000', '\ufeff', '\u200b'],
      ...['ß', 'SS', 'é', 'É', 'e\u0301', 'E\u0301', 'K', 'k', '\u212a', '\u0131', '\u0130', '-', '9'],
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
  // Characters whose Unicode case mappings, compatibility or canonical forms are ASCII, and
  // invisible or space-like characters that trimming or white-space folding would remove.
  const odd = fc.constantFrom(
    ...['\u0131', '\u0130', '\u017f', '\u00df', '\ufb00', '\ufb03', '\ufb06', '\u212a', '\u212b'],
    ...['\ufeff', '\u00a0', '\u3000', '\u2009', '\t', '\u200b', '\uff41'],
  );
  const ascii = fc.string({ unit: fc.constantFrom('a', 'd', 'm', 'n', 's', 'i', 'f', 'k'), maxLength: 6 });
  const isAscii = (v: string) => /^[\x20-\x7e]*$/.test(v);
  fc.assert(
    fc.property(ascii, odd, ascii, (before, c, after) => {
      const dn = (v: string): Rdn[] => [[{ type: 'CN', value: v }]];
      const base = c.normalize('NFKD').replace(/\p{M}/gu, '');
      const candidates = [c.toLowerCase(), c.toUpperCase(), c.toUpperCase().toLowerCase(), base, ' ', ''];
      for (const m of candidates.filter(isAscii)) {
        assert.equal(dnEquals(dn(before + c + after), dn(before + m + after)), false, `${c} vs ${m}`);
      }
    }),
    RUNS,
  );
});

const dir = tempDir();
after(() => dir.cleanup());

test("one certificate's subject reads the same from its DER and from the RFC 2253 text a proxy forwards", async () => {
  // Types a CA issues as UTF8String (or, for unknown OIDs, that OpenSSL dumps as #hex); values with
  // what trimming, folding or normalising would change: a BOM, Unicode spaces, a tab, the Kelvin sign.
  const certType = fc.constantFrom('CN', 'O', 'OU', 'L', 'ST', 'title', 'UID', '1.3.6.1.4.1.99999.1');
  const certValue = fc.oneof(
    value,
    fc.string({
      unit: fc.constantFrom('\ufeff', '\u00a0', '\u3000', '\t', '\u212a', 'k', 'e\u0301', '\u00e9', ' ', 'a', ','),
      maxLength: 6,
    }),
    value.map((v) => `\ufeff${v}`),
  );
  const subject = fc.array(
    fc.array(
      fc.tuple(certType, certValue).map(([t, v]) => ({ type: t, value: v })),
      { minLength: 1, maxLength: 2 },
    ),
    { minLength: 1, maxLength: 3 },
  );
  const path = join(dir.path, 'subject.pem');
  await fc.assert(
    fc.asyncProperty(subject, async (rdns) => {
      const ca = await createSelfSignedCa({ subject: formatDn(rdns), keyType: 'ec-p256' });
      writeFileSync(path, ca.certPem);
      const header = opensslSubject(path); // what nginx's $ssl_client_s_dn and Envoy's Subject carry
      const fromDer = dnFromX509(new X509Certificate(ca.certPem));
      const fromHeader = parseDn(header);
      assert.deepEqual(fromHeader, fromDer, header);
      assert.ok(dnEquals(formatDn(rdns), fromDer));
      // and so both readings answer alike for any expected subject, the look-alike clean one included
      const clean = rdns.map((rdn) => rdn.map((e) => ({ ...e, value: e.value.replace(/[^\x21-\x7e]/g, '') })));
      assert.equal(dnEquals(clean, fromHeader), dnEquals(clean, fromDer));
    }),
    { numRuns: 40 },
  );
});
