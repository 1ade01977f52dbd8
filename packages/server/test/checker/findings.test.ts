import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FINDINGS, type FindingCode, finding, verdictOf } from '../../src/checker/findings.ts';
import { renderReport, reportJson } from '../../src/checker/index.ts';
import type { CheckReport } from '../../src/checker/types.ts';

const docs = readFileSync(new URL('../../../../docs/checker.md', import.meta.url), 'utf8');

test('every finding code is a stable HW_CHECK_ code, documented with its severity', () => {
  for (const [code, entry] of Object.entries(FINDINGS)) {
    assert.match(code, /^HW_CHECK_[A-Z0-9_]+$/);
    assert.ok(['error', 'warning', 'info'].includes(entry.severity));
    const row = new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${entry.severity}\\s*\\|`);
    assert.match(docs, row, `${code} missing from docs/checker.md`);
  }
});

test('advice names the recognised server software’s own setting, and stays generic otherwise', () => {
  const optional = (server?: 'nginx' | 'node' | 'haproxy' | 'caddy') =>
    finding('HW_CHECK_CLIENT_CERT_OPTIONAL', 'm', undefined, server).fix ?? '';
  assert.match(optional('nginx'), /ssl_verify_client on/);
  assert.match(optional('node'), /rejectUnauthorized: true/);
  assert.doesNotMatch(optional('node'), /ssl_verify_client/);
  assert.match(optional('haproxy'), /verify required/);
  assert.doesNotMatch(optional(), /nginx|ssl_|HAProxy|rejectUnauthorized/);
  // A code without server-specific advice keeps its own.
  assert.equal(finding('HW_CHECK_CERT_EXPIRED', 'm', undefined, 'node').fix, 'renew the certificate');
  assert.equal(finding('HW_CHECK_CHAIN_ORDER', 'm', 'custom', 'nginx').fix, 'custom');
  for (const [code, entry] of Object.entries(FINDINGS)) {
    if (!('servers' in entry)) continue;
    assert.ok('fix' in entry, `${code}: server advice extends a generic fix`);
    assert.doesNotMatch(entry.fix, /`ssl_|nginx:/, `${code}: its generic fix names no server's setting`);
  }
});

test('the verdict follows the worst severity', () => {
  const f = (code: FindingCode) => finding(code, 'x');
  assert.equal(verdictOf([]), 'compatible');
  assert.equal(verdictOf([f('HW_CHECK_NO_TLS13')]), 'compatible');
  assert.equal(verdictOf([f('HW_CHECK_NO_TLS13'), f('HW_CHECK_CHAIN_ORDER')]), 'compatible_with_warnings');
  assert.equal(verdictOf([f('HW_CHECK_CHAIN_ORDER'), f('HW_CHECK_CHAIN_INCOMPLETE')]), 'incompatible');
  assert.equal(finding('HW_CHECK_CHAIN_ORDER', 'm', 'custom').fix, 'custom');
});

const report: CheckReport = {
  schema: 1,
  url: 'https://hooks.example.com/in',
  host: 'hooks.example.com',
  port: 443,
  checkedAt: '2026-11-28T12:00:00.000Z',
  durationMs: 120,
  verdict: 'incompatible',
  dns: { answers: [{ address: '192.0.2.1', family: 4, allowed: true }] },
  connect: { address: '192.0.2.1', ok: true, timeMs: 1.5 },
  tls: {
    protocols: [
      { version: 'TLSv1', accepted: true, inPolicy: false },
      { version: 'TLSv1.1', accepted: false, inPolicy: false },
      { version: 'TLSv1.2', accepted: true, inPolicy: true },
      { version: 'TLSv1.3', accepted: false, inPolicy: true },
    ],
    ciphers: [{ version: 'TLSv1.2', accepted: ['ECDHE-RSA-AES128-GCM-SHA256'], rejected: ['AES128-SHA'] }],
    negotiated: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' },
  },
  chain: {
    source: 'handshake',
    certificates: [
      {
        subject: 'CN=hooks.example.com',
        issuer: 'CN=Example Intermediate',
        fingerprintSha256: 'AA:BB',
        notBefore: '2026-01-01T00:00:00.000Z',
        notAfter: '2027-01-01T00:00:00.000Z',
        daysToExpiry: 34,
        keyType: 'rsa',
        keyBits: 2048,
        selfSigned: false,
        isCa: false,
      },
    ],
    trusted: false,
    trustError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    complete: false,
    ordered: true,
    hostnameMatch: true,
    daysToExpiry: 34,
  },
  clientAuth: {
    mode: 'optional',
    detectedBy: ['certificate-request', 'behaviour'],
    caNames: ['CN=Some CA'],
    platformCaAdvertised: false,
    withPlatformCertificate: { attempted: true, ok: false, error: 'refused' },
  },
  http: { attempted: true, statusCode: 401, latencyMs: 4 },
  findings: [finding('HW_CHECK_CHAIN_INCOMPLETE', 'the server does not send its intermediate certificate')],
};

test('the table shows every section and each finding with its fix; colours only when asked', () => {
  const plain = renderReport(report, { color: false });
  for (const text of [
    'INCOMPATIBLE',
    '192.0.2.1',
    'TLSv1.2 yes',
    '1/2 of the dispatcher',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'complete no',
    'CN=hooks.example.com',
    'rsa 2048',
    'Client auth optional',
    'CN=Some CA',
    'refused',
    'test event answered 401',
    'HW_CHECK_CHAIN_INCOMPLETE',
    'fix: send the intermediate certificates',
  ]) {
    assert.ok(plain.includes(text), `missing '${text}' in:\n${plain}`);
  }
  assert.doesNotMatch(plain, /\u001b\[/);
  const coloured = renderReport(report, { color: true });
  assert.match(coloured, /\u001b\[31mINCOMPATIBLE\u001b\[0m/);
  assert.equal(coloured.replace(/\u001b\[\d+m/g, ''), plain);
});

test('server-supplied text reaches neither the table nor the JSON with terminal controls', () => {
  // C0 ESC, C1 CSI (U+009B), bidi override and isolate, zero-width space, BOM, line separator.
  const evil = 'x\u001b[31m\u009b2J\u202eabc\u2066\u200b\ufeff\u2028\u0085';
  const hostile: CheckReport = {
    ...report,
    dns: { answers: [{ address: evil, family: 4, allowed: false, reason: evil }], error: evil },
    connect: { address: evil, ok: false, error: evil },
    tls: { ...report.tls, negotiated: { protocol: evil, cipher: evil } },
    chain: {
      ...report.chain,
      certificates: [{ ...report.chain.certificates[0]!, subject: evil, issuer: evil, keyType: evil, curve: evil }],
      trustError: evil,
    },
    clientAuth: {
      ...report.clientAuth,
      caNames: [evil],
      withPlatformCertificate: { attempted: true, ok: false, error: evil },
    },
    http: { attempted: true, error: evil },
    findings: [{ code: 'HW_CHECK_HTTP_FAILED', severity: 'error', message: evil, fix: evil }],
  };
  const unsafe = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
  const plain = renderReport(hostile, { color: false });
  assert.doesNotMatch(plain, unsafe);
  assert.ok(plain.includes('x\\u001b[31m\\u009b2J\\u202eabc'), plain);
  const coloured = renderReport(hostile, { color: true }).replace(/\u001b\[\d+m/g, '');
  assert.doesNotMatch(coloured, unsafe);
  const json = reportJson(hostile);
  assert.doesNotMatch(json, unsafe);
  assert.deepEqual(JSON.parse(json), hostile);
});
