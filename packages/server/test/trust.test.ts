import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CIPHER_POLICY } from '../src/delivery/ciphers.ts';
import { buildTrustDocument } from '../src/trust.ts';

const cert = (n: string) => ({
  subject: `CN=${n}`,
  dnsNames: [n],
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2027-01-01T00:00:00Z'),
  fingerprints: { sha256: n, sha1: n, sha256Hex: n, sha1Hex: n, spkiSha256: n },
});
const base = {
  caBundlePem: 'PEM',
  current: cert('a'),
  egressCidrs: ['203.0.113.0/24'],
  signingPublicKeys: ['whpk_x'],
  cipherPolicy: DEFAULT_CIPHER_POLICY,
};

test('the version is stable for the same content and changes with anything receivers rely on', () => {
  const v = buildTrustDocument(base).version;
  assert.equal(buildTrustDocument({ ...base }).version, v);
  for (const change of [
    { next: cert('b') },
    { caBundlePem: 'PEM2' },
    { egressCidrs: ['198.51.100.1/32'] },
    { signingPublicKeys: [] },
    { current: cert('c') },
  ]) {
    assert.notEqual(buildTrustDocument({ ...base, ...change }).version, v, JSON.stringify(change));
  }
  const doc = buildTrustDocument({ ...base, next: cert('b') });
  assert.equal(doc.certificates.next?.notBefore, '2026-01-01T00:00:00.000Z');
  assert.deepEqual(Object.keys(doc.certificates.current.fingerprints).sort(), [
    'sha1',
    'sha1Hex',
    'sha256',
    'sha256Hex',
    'spkiSha256',
  ]);
});
