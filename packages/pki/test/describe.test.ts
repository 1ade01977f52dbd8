import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { createHierarchy, describeCertificate, fingerprints } from '../src/index.ts';

test('describeCertificate reports subject, issuer, SANs, validity, serial, key type, fingerprints', async () => {
  const now = () => new Date('2026-03-01T00:00:00Z');
  const h = await createHierarchy({
    subject: 'CN=hooks.example.com,O=Example\\, Inc.',
    dnsNames: ['hooks.example.com', 'alt.example.com'],
    now,
    validityDays: 10,
  });
  const info = describeCertificate(h.leaf.certPem);
  assert.equal(info.subject, 'CN=hooks.example.com,O=Example\\, Inc.');
  assert.equal(info.issuer, 'CN=Example\\, Inc. Callback Intermediate CA,O=Example\\, Inc.');
  assert.deepEqual(info.dnsNames, ['hooks.example.com', 'alt.example.com']);
  assert.equal(info.notAfter.toISOString(), '2026-03-11T00:00:00.000Z');
  assert.ok(info.notBefore < now());
  assert.equal(info.serialHex, new X509Certificate(h.leaf.certPem).serialNumber.toUpperCase());
  assert.match(info.serialHex, /^[0-9A-F]+$/);
  assert.equal(info.keyType, 'ec-p256');
  assert.deepEqual(info.fingerprints, fingerprints(h.leaf.certPem));
  assert.deepEqual(describeCertificate(h.root.certPem).dnsNames, []);
  assert.throws(() => describeCertificate('nope'), { code: 'HW_PKI_PEM_INVALID' });
});
