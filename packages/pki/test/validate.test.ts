import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  type CertKey,
  caBundlePem,
  createHierarchy,
  createSelfSignedCa,
  type Hierarchy,
  issueCertificate,
  PkiError,
  validateIdentity,
} from '../src/index.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const now = () => NOW;
const DAY = 86_400_000;

let h: Hierarchy;
let other: Hierarchy;
let server: CertKey;
let deep: { leaf: CertKey; chain: string };
let underPathLen: { leaf: CertKey; chain: string };

before(async () => {
  h = await createHierarchy({ subject: 'CN=callbacks.example.com', now, validityDays: 90 });
  other = await createHierarchy({ subject: 'CN=other', now });
  server = await issueCertificate(h.intermediate, { subject: 'CN=localhost', usage: 'server', now });
  // root → 4 intermediates → leaf: one more than receivers are asked to allow.
  const root = await createSelfSignedCa({ subject: 'CN=Deep Root', now });
  let issuer = root;
  const cas: CertKey[] = [];
  for (let i = 0; i < 4; i++) {
    issuer = await issueCertificate(issuer, { subject: `CN=Deep ${i}`, usage: 'ca', pathLength: 5, now });
    cas.unshift(issuer);
  }
  const deepLeaf = await issueCertificate(issuer, { subject: 'CN=deep leaf', now });
  deep = { leaf: deepLeaf, chain: cas.map((c) => c.certPem).join('') + root.certPem };
  // h.intermediate has pathLen 0: a CA below it breaks the constraint.
  const sub = await issueCertificate(h.intermediate, { subject: 'CN=Sub', usage: 'ca', now });
  underPathLen = {
    leaf: await issueCertificate(sub, { subject: 'CN=under', now }),
    chain: sub.certPem + caBundlePem(h),
  };
});

test('a good identity passes, with the bundle and the presented chain worked out', () => {
  const v = validateIdentity({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: caBundlePem(h) }, NOW);
  assert.equal(v.certPem, h.leaf.certPem);
  assert.equal(v.chainPem, h.leaf.certPem + h.intermediate.certPem);
  assert.equal(v.caBundlePem, h.intermediate.certPem + h.root.certPem);
  assert.match(v.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  // A "fullchain" file that repeats the leaf is fine too.
  const full = validateIdentity({ certPem: h.leaf.certPem + caBundlePem(h), keyPem: h.leaf.keyPem, chainPem: '' }, NOW);
  assert.equal(full.caBundlePem, v.caBundlePem);
});

type Row = [
  name: string,
  input: () => { certPem: string; keyPem: string; chainPem: string },
  at: Date,
  code: string,
  hint: RegExp,
];
const rows: Row[] = [
  [
    'garbage certificate PEM',
    () => ({ certPem: 'hello', keyPem: h.leaf.keyPem, chainPem: caBundlePem(h) }),
    NOW,
    'HW_PKI_PEM_INVALID',
    /BEGIN CERTIFICATE/,
  ],
  [
    'truncated certificate',
    () => ({
      certPem: h.leaf.certPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n'),
      keyPem: h.leaf.keyPem,
      chainPem: caBundlePem(h),
    }),
    NOW,
    'HW_PKI_PEM_INVALID',
    /not/,
  ],
  [
    'garbage key',
    () => ({ certPem: h.leaf.certPem, keyPem: 'secret-ish', chainPem: caBundlePem(h) }),
    NOW,
    'HW_PKI_KEY_INVALID',
    /PEM private key/,
  ],
  [
    'key of another certificate',
    () => ({ certPem: h.leaf.certPem, keyPem: other.leaf.keyPem, chainPem: caBundlePem(h) }),
    NOW,
    'HW_PKI_KEY_MISMATCH',
    /does not belong/,
  ],
  [
    'CA certificate given as leaf',
    () => ({ certPem: h.intermediate.certPem, keyPem: h.intermediate.keyPem, chainPem: h.root.certPem }),
    NOW,
    'HW_PKI_LEAF_IS_CA',
    /--cert and the CAs as --chain/,
  ],
  [
    'server certificate (no clientAuth)',
    () => ({ certPem: server.certPem, keyPem: server.keyPem, chainPem: caBundlePem(h) }),
    NOW,
    'HW_PKI_EKU_MISSING',
    /clientAuth/,
  ],
  [
    'expired',
    () => ({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: caBundlePem(h) }),
    new Date(NOW.getTime() + 91 * DAY),
    'HW_PKI_CERT_EXPIRED',
    /renew/,
  ],
  [
    'not yet valid',
    () => ({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: caBundlePem(h) }),
    new Date(NOW.getTime() - DAY),
    'HW_PKI_CERT_NOT_YET_VALID',
    /not valid before/,
  ],
  [
    'chain of another CA',
    () => ({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: caBundlePem(other) }),
    NOW,
    'HW_PKI_CHAIN_BROKEN',
    /was not issued by/,
  ],
  [
    'chain in the wrong order',
    () => ({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: h.root.certPem + h.intermediate.certPem }),
    NOW,
    'HW_PKI_CHAIN_BROKEN',
    /order --chain/,
  ],
  [
    'no chain',
    () => ({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: '' }),
    NOW,
    'HW_PKI_CHAIN_BROKEN',
    /--chain/,
  ],
  [
    'chain without the root',
    () => ({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: h.intermediate.certPem }),
    NOW,
    'HW_PKI_CHAIN_BROKEN',
    /append the root/,
  ],
  [
    'garbage chain',
    () => ({ certPem: h.leaf.certPem, keyPem: h.leaf.keyPem, chainPem: 'junk' }),
    NOW,
    'HW_PKI_PEM_INVALID',
    /chain/,
  ],
  [
    'too many intermediates',
    () => ({ certPem: deep.leaf.certPem, keyPem: deep.leaf.keyPem, chainPem: deep.chain }),
    NOW,
    'HW_PKI_CHAIN_TOO_DEEP',
    /4 intermediate/,
  ],
  [
    'pathLen exceeded',
    () => ({ certPem: underPathLen.leaf.certPem, keyPem: underPathLen.leaf.keyPem, chainPem: underPathLen.chain }),
    NOW,
    'HW_PKI_CHAIN_TOO_DEEP',
    /pathLen/,
  ],
];

for (const [name, input, at, code, hint] of rows) {
  test(`import refuses: ${name} → ${code}`, () => {
    const given = input();
    assert.throws(
      () => validateIdentity(given, at),
      (err: unknown) => {
        assert.ok(err instanceof PkiError, String(err));
        assert.equal(err.code, code);
        assert.match(err.message, hint);
        assert.deepEqual(err.toJSON(), { code, detail: err.message });
        // Never echo key material.
        assert.ok(!err.message.includes('PRIVATE KEY-----'));
        const keyBody = given.keyPem.slice(40, 80);
        assert.ok(keyBody === '' || !err.message.includes(keyBody));
        return true;
      },
    );
  });
}
