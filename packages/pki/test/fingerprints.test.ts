import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { needTools, tempDir } from '@hookwarden/testkit';
import { type CertKey, createSelfSignedCa, fingerprints, issueCertificate } from '../src/index.ts';
import { openssl } from './helpers.ts';

const dir = tempDir();
let ca: CertKey;
let leaf: CertKey;
before(async () => {
  ca = await createSelfSignedCa({ subject: 'CN=Fingerprint Root' });
  leaf = await issueCertificate(ca, { subject: 'CN=leaf' });
});
after(() => dir.cleanup());

test('SHA-256 and SHA-1 match openssl, in colon and nginx forms', { skip: needTools('openssl') }, () => {
  const fp = fingerprints(leaf.certPem);
  const sha256 = openssl(dir.path, ['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha256'], {
    'leaf.pem': leaf.certPem,
  });
  const sha1 = openssl(dir.path, ['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha1']);
  assert.equal(sha256.out.trim(), `sha256 Fingerprint=${fp.sha256}`);
  assert.equal(sha1.out.trim(), `sha1 Fingerprint=${fp.sha1}`);
  assert.equal(fp.sha256Hex, fp.sha256.replaceAll(':', '').toLowerCase());
  assert.equal(fp.sha1Hex, fp.sha1.replaceAll(':', '').toLowerCase());
  assert.match(fp.sha1Hex, /^[0-9a-f]{40}$/);
});

test('SPKI pin matches the openssl pipeline receivers use', { skip: needTools('openssl') }, () => {
  openssl(dir.path, ['x509', '-in', 'leaf.pem', '-noout', '-pubkey', '-out', 'pub.pem'], { 'leaf.pem': leaf.certPem });
  openssl(dir.path, ['pkey', '-pubin', '-in', 'pub.pem', '-outform', 'der', '-out', 'pub.der']);
  const digest = openssl(dir.path, ['dgst', '-sha256', '-binary', '-out', 'pin.bin', 'pub.der']);
  assert.equal(digest.status, 0, digest.out);
  const pin = openssl(dir.path, ['base64', '-in', 'pin.bin']);
  assert.equal(pin.out.trim(), fingerprints(leaf.certPem).spkiSha256);
});

test('PEM and DER give the same fingerprints; different certificates differ', () => {
  const der = new X509Certificate(leaf.certPem).raw;
  assert.deepEqual(fingerprints(der), fingerprints(leaf.certPem));
  assert.notEqual(fingerprints(ca.certPem).sha256, fingerprints(leaf.certPem).sha256);
  assert.notEqual(fingerprints(ca.certPem).spkiSha256, fingerprints(leaf.certPem).spkiSha256);
});

test('garbage is HW_PKI_PEM_INVALID', () => {
  for (const input of [
    '',
    'hello',
    '-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----',
    new Uint8Array([1, 2, 3]),
  ]) {
    assert.throws(() => fingerprints(input), { code: 'HW_PKI_PEM_INVALID' });
  }
});
