import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, test } from 'node:test';
import fc from 'fast-check';
import {
  caBundlePem,
  createHierarchy,
  describeCertificate,
  fingerprints,
  type Hierarchy,
  PkiError,
  validateIdentity,
} from '../src/index.ts';
import { certificateDers, derToPem, pemBlocks } from '../src/pem.ts';

let h: Hierarchy;
before(async () => {
  h = await createHierarchy({ subject: 'CN=prop.example.com' });
});

function onlyPkiErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof PkiError)) throw err;
    assert.match(err.code, /^HW_PKI_[A-Z_]+$/);
  }
}

/** PEM-ish text: real blocks with bytes changed, cut short, or glued to noise. */
const mangledPem = () =>
  fc
    .tuple(
      fc.constantFrom('leaf', 'key', 'bundle'),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('A', '/', '=', '-', '\n', ' ', '!', 'é')), { maxLength: 4 }),
      fc.nat(),
      fc.string({ maxLength: 20 }),
    )
    .map(([which, edits, cut, noise]) => {
      const chars = (which === 'leaf' ? h.leaf.certPem : which === 'key' ? h.leaf.keyPem : caBundlePem(h)).split('');
      for (const [at, c] of edits) chars[at % chars.length] = c;
      const text = chars.join('');
      return noise + text.slice(0, cut % (text.length + 1));
    });

test('certificate parsers throw nothing but PkiError on arbitrary or mangled PEM and bytes', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 80 }), mangledPem()), (text) => {
      onlyPkiErrors(() => fingerprints(text));
      onlyPkiErrors(() => describeCertificate(text));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => onlyPkiErrors(() => fingerprints(bytes))),
    { numRuns: 300 },
  );
});

test('a certificate whose public key cannot be read is refused as unreadable, not with an OpenSSL error', () => {
  const der = Buffer.from(new X509Certificate(h.leaf.certPem).raw);
  // The P-256 curve OID of the key (1.2.840.10045.3.1.7), with one byte changed: the DER still parses.
  const at = der.indexOf(Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]));
  assert.ok(at > 0);
  der[at + 2] = 0x00;
  for (const input of [der, derToPem(der)]) {
    assert.throws(() => fingerprints(input), { name: 'PkiError', code: 'HW_PKI_PEM_INVALID' });
    assert.throws(() => describeCertificate(input), { name: 'PkiError', code: 'HW_PKI_PEM_INVALID' });
  }
});

test('a certificate with an extension that cannot be decoded is refused as unreadable, every time', () => {
  const der = Buffer.from(new X509Certificate(h.leaf.certPem).raw);
  // subjectKeyIdentifier (2.5.29.14): its value must be an OCTET STRING (tag 4); make it an IA5String.
  const at = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04]));
  assert.ok(at > 0);
  assert.equal(der[at + 7], 0x04);
  der[at + 7] = 0x16;
  for (const input of [der, derToPem(der), derToPem(der)]) {
    assert.throws(() => describeCertificate(input), { name: 'PkiError', code: 'HW_PKI_PEM_INVALID' });
  }
});

test('import validation throws nothing but PkiError on mangled inputs', () => {
  fc.assert(
    fc.property(mangledPem(), mangledPem(), mangledPem(), (certPem, keyPem, chainPem) => {
      onlyPkiErrors(() => validateIdentity({ certPem, keyPem, chainPem }));
    }),
    { numRuns: 150 },
  );
});

/** The block regex the scanner replaces: the reference for what a PEM text holds. */
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

test('the linear PEM scan finds exactly the blocks the block regex does', () => {
  const piece = fc.constantFrom(
    '-----BEGIN CERTIFICATE-----',
    '-----END CERTIFICATE-----',
    '-----BEGIN X-----',
    '-----END X-----',
    '-----BEGIN ',
    '-----END ',
    '-----',
    '-',
    'CERTIFICATE',
    'X',
    ' ',
    '\n',
    'QUJD',
    'é',
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
      const text = pieces.join('');
      const expected = [...text.matchAll(BLOCK)].map((m) => ({ label: m[1]!, body: m[2]! }));
      assert.deepEqual(pemBlocks(text), expected);
    }),
    { numRuns: 2000 },
  );
  const bundle = caBundlePem(h);
  assert.deepEqual(
    certificateDers(`noise\n${bundle}trailer`)
      .map((d) => derToPem(d))
      .join(''),
    bundle,
  );
});

test('a megabyte of BEGIN lines is refused in linear time', () => {
  for (const line of ['-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\n-----END X-----\n']) {
    const text = line.repeat(Math.floor(999_000 / line.length));
    const started = performance.now();
    assert.throws(() => describeCertificate(text), { code: 'HW_PKI_PEM_INVALID' });
    // The block regex took seconds here (quadratic); a linear scan takes milliseconds.
    assert.ok(performance.now() - started < 1000, `${Math.round(performance.now() - started)} ms`);
  }
});
