import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideClientAuth } from '../../src/checker/client-auth.ts';
import type { ProbeResult } from '../../src/checker/probe.ts';

const view = (certificateRequest: Buffer[] | null | undefined) => ({
  version: 0x0303,
  cipherSuite: 0xc02b,
  certificateRequest,
});
const ok = (status: number, text = ''): Partial<ProbeResult> => ({
  handshake: true,
  response: { statusCode: status, text: `HTTP/1.1 ${status} X\r\n\r\n${text}` },
});

const cases: [string, Partial<ProbeResult>[], string, string[]][] = [
  ['no CertificateRequest', [{ view: view(null), ...ok(200) }], 'none', ['certificate-request', 'behaviour']],
  [
    'requested, request without certificate answered',
    [{ view: view([]), ...ok(200) }],
    'optional',
    ['certificate-request', 'behaviour'],
  ],
  [
    'requested, nginx refuses at HTTP',
    [{ view: view([]), ...ok(400, '<center>No required SSL certificate was sent</center>') }],
    'required',
    ['certificate-request', 'behaviour'],
  ],
  [
    'requested, alert after the request',
    [{ view: view([]), handshake: false, failure: { kind: 'alert', alert: 'handshake_failure', message: 'x' } }],
    'required',
    ['certificate-request', 'behaviour'],
  ],
  [
    'TLS 1.3 not readable, certificate_required alert',
    [{ handshake: true, failure: { kind: 'alert', alert: 'certificate_required', message: 'x' }, view: view([]) }],
    'required',
    ['certificate-request', 'behaviour'],
  ],
  ['nothing readable, a plain 401', [{ handshake: true, ...ok(401) }], 'unknown', ['behaviour']],
  [
    'requested, the app refuses a request without one (401, as @hookwarden/verify answers)',
    [{ view: view([]), ...ok(401, '{"code":"HW_CERT_MISSING"}') }],
    'required',
    ['certificate-request', 'behaviour'],
  ],
  [
    'requested, the app refuses with 403',
    [{ view: view([]), ...ok(403) }],
    'required',
    ['certificate-request', 'behaviour'],
  ],
  [
    'requested, request timed out',
    [{ view: view([]), handshake: true, failure: { kind: 'timeout', message: 'x' } }],
    'unknown',
    ['certificate-request'],
  ],
];

test('the client-authentication mode follows from the handshake and the behaviour', () => {
  for (const [name, probes, mode, detectedBy] of cases) {
    const auth = decideClientAuth({
      withoutCertificate: probes.map((p) => ({ handshake: false, peerChain: [], ...p })),
      platformNames: [],
    });
    assert.equal(auth.mode, mode, name);
    assert.deepEqual(auth.detectedBy, detectedBy, name);
    assert.deepEqual(auth.withPlatformCertificate, { attempted: false, ok: null }, name);
  }
});

test('the platform certificate is judged refused on an alert, a close or nginx’s certificate error page', () => {
  const judge = (p: Partial<ProbeResult>) =>
    decideClientAuth({
      withoutCertificate: [],
      withPlatformCertificate: { handshake: true, peerChain: [], ...p },
      platformNames: [],
    }).withPlatformCertificate;
  assert.deepEqual(judge(ok(200)), { attempted: true, ok: true, statusCode: 200 });
  assert.equal(judge(ok(400, 'The SSL certificate error')).ok, false);
  assert.equal(
    judge({ failure: { kind: 'alert', alert: 'unknown_ca', message: 'x' } }).error,
    'the server sent the TLS alert unknown_ca',
  );
  assert.equal(judge({ failure: { kind: 'closed', message: 'closed' } }).ok, false);
});
