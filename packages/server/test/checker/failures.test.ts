import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { ServerOptions } from 'node:https';
import { createServer as createNetServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { freePort } from '@hookwarden/testkit';
import { HookwardenError } from '@hookwarden/verify/errors';
import { type CheckReport, runCheck } from '../../src/checker/index.ts';
import { type Fixtures, makeFixtures } from './fixtures.ts';
import { serveHttps as httpsOn, serveOn } from './serve.ts';

let fx: Fixtures;
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});
before(async () => {
  fx = await makeFixtures();
});

function codes(report: CheckReport): string[] {
  return report.findings.map((f) => f.code);
}

// The shared loopback servers (serve.ts), closed after the file's tests.
const serve = (server: Server) => serveOn(server, closers);
const serveHttps = (extra: ServerOptions = {}) => httpsOn(fx, closers, extra);

test('a closed port is a finding, not a crash', async () => {
  const port = await freePort();
  const report = await runCheck({ url: `https://127.0.0.1:${port}/`, allowPrivateTargets: true });
  assert.equal(report.verdict, 'incompatible');
  assert.deepEqual(codes(report), ['HW_CHECK_CONNECT_FAILED']);
  assert.equal(report.connect.ok, false);
  assert.match(report.connect.error ?? '', /ECONNREFUSED/);
});

test('plain HTTP on the port is recognised', async () => {
  const port = await serve(createHttpServer((_req, res) => res.end('hello')));
  const report = await runCheck({ url: `https://127.0.0.1:${port}/`, allowPrivateTargets: true });
  assert.equal(report.connect.ok, true);
  assert.deepEqual(codes(report), ['HW_CHECK_PLAIN_HTTP']);
  assert.equal(report.verdict, 'incompatible');
});

test('a server that accepts and never answers costs at most the time bound', async () => {
  const port = await serve(createNetServer(() => {}));
  const report = await runCheck({ url: `https://127.0.0.1:${port}/`, allowPrivateTargets: true, timeoutMs: 1500 });
  assert.ok(codes(report).includes('HW_CHECK_TLS_TIMEOUT'), codes(report).join());
  assert.equal(report.verdict, 'incompatible');
  assert.ok(report.tls.protocols.every((p) => p.accepted === null));
});

test('a TLS alert is a finding: a server that speaks only TLS 1.0 and 1.1', async () => {
  const port = await serveHttps({
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0',
  });
  const report = await runCheck({
    url: `https://127.0.0.1:${port}/`,
    allowPrivateTargets: true,
    serverCaPem: fx.serverRoot.certPem,
  });
  assert.deepEqual(
    report.tls.protocols.map((p) => [p.version, p.accepted]),
    [
      ['TLSv1', true],
      ['TLSv1.1', true],
      ['TLSv1.2', false],
      ['TLSv1.3', false],
    ],
  );
  // To a TLS 1.2 hello, the server answers with 1.1 (a TLS 1.3 hello gets the protocol_version alert).
  assert.equal(report.tls.protocols[2]!.error, 'the server answered with TLSv1.1');
  assert.match(report.tls.protocols[3]!.error ?? '', /protocol_version|TLSv1.1/);
  assert.deepEqual(codes(report).sort(), [
    'HW_CHECK_CLIENT_CERT_NOT_REQUESTED',
    'HW_CHECK_LEGACY_PROTOCOL',
    'HW_CHECK_NO_COMMON_PROTOCOL',
    'HW_CHECK_NO_TLS13',
  ]);
  assert.equal(report.chain.complete, true);
  assert.equal(report.verdict, 'incompatible');
});

test('a server that closes every connection at once is a finding', async () => {
  const port = await serve(createNetServer((s) => s.destroy()));
  const report = await runCheck({ url: `https://127.0.0.1:${port}/`, allowPrivateTargets: true });
  assert.equal(report.verdict, 'incompatible');
  assert.ok(codes(report).includes('HW_CHECK_NO_COMMON_PROTOCOL'), codes(report).join());
  assert.match(report.tls.protocols[2]!.error ?? '', /closed|ECONNRESET/);
});

test('a server that refuses certificate-less handshakes is "required", and takes the platform certificate', async () => {
  const port = await serveHttps({ requestCert: true, rejectUnauthorized: true, ca: fx.platform.caPem });
  const url = `https://127.0.0.1:${port}/hooks`;
  const base = { url, allowPrivateTargets: true, serverCaPem: fx.serverRoot.certPem, platformCaPem: fx.platform.caPem };
  const report = await runCheck({ ...base, clientIdentity: fx.platform.identity });
  assert.equal(report.clientAuth.mode, 'required');
  assert.deepEqual(report.clientAuth.detectedBy, ['certificate-request', 'behaviour']);
  assert.equal(report.clientAuth.platformCaAdvertised, true);
  assert.deepEqual(report.clientAuth.withPlatformCertificate, { attempted: true, ok: true, statusCode: 200 });
  assert.equal(report.http.statusCode, 200);
  assert.equal(report.chain.complete, true);
  assert.equal(report.chain.trusted, true);
  assert.equal(report.verdict, 'compatible', JSON.stringify(report.findings));

  const stranger = await runCheck({ ...base, clientIdentity: fx.stranger });
  assert.equal(stranger.clientAuth.withPlatformCertificate.ok, false);
  // Node verifies after the handshake and just closes: no alert, no HTTP answer.
  assert.match(stranger.clientAuth.withPlatformCertificate.error ?? '', /closed the connection|alert/);
  assert.ok(codes(stranger).includes('HW_CHECK_CLIENT_CERT_REJECTED'));
  assert.equal(stranger.verdict, 'incompatible');
});

test('the injected clock dates the report and judges expiry', async () => {
  const port = await serveHttps();
  const later = Date.now() + 400 * 86_400_000;
  let calls = 0;
  const report = await runCheck({
    url: `https://127.0.0.1:${port}/`,
    allowPrivateTargets: true,
    serverCaPem: fx.serverRoot.certPem,
    now: () => later + calls++,
    sendTestEvent: async (u) => ({ statusCode: u.endsWith('/') ? 204 : 500, latencyMs: 3 }),
  });
  assert.equal(report.checkedAt, new Date(later).toISOString());
  assert.ok(codes(report).includes('HW_CHECK_CERT_EXPIRED'), codes(report).join());
  assert.ok(report.chain.certificates[0]!.daysToExpiry < 0);
  assert.deepEqual(report.http, { attempted: true, statusCode: 204, latencyMs: 3 });
  assert.equal(report.clientAuth.mode, 'none');
});

test('an unknown CA is untrusted but complete; a foreign host name does not match', async () => {
  const port = await serveHttps();
  const report = await runCheck({
    url: `https://receiver.hookwarden.test:${port}/`,
    allowPrivateTargets: true,
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
  });
  assert.equal(report.connect.address, '127.0.0.1');
  assert.deepEqual(
    [report.chain.trusted, report.chain.complete, report.chain.ordered, report.chain.hostnameMatch],
    [false, true, true, false],
  );
  assert.match(report.chain.trustError ?? '', /UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  assert.ok(codes(report).includes('HW_CHECK_CHAIN_UNTRUSTED'));
  assert.ok(codes(report).includes('HW_CHECK_HOSTNAME_MISMATCH'));
  assert.ok(!codes(report).includes('HW_CHECK_CHAIN_INCOMPLETE'));
  assert.match(report.http.error ?? '', /^tls_server_untrusted/);
});

test('a failing sendTestEvent is an HTTP finding', async () => {
  const port = await serveHttps();
  const report = await runCheck({
    url: `https://127.0.0.1:${port}/`,
    allowPrivateTargets: true,
    serverCaPem: fx.serverRoot.certPem,
    sendTestEvent: async () => {
      throw new Error('receiver exploded');
    },
  });
  assert.equal(report.http.error, 'receiver exploded');
  assert.ok(codes(report).includes('HW_CHECK_HTTP_FAILED'));
});

test('DNS failures and forbidden answers are findings; forbidden addresses are never dialled', async () => {
  const unresolvable = await runCheck({
    url: 'https://no-such-host.hookwarden.test/',
    lookup: async () => {
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    },
  });
  assert.deepEqual(codes(unresolvable), ['HW_CHECK_DNS_FAILED']);
  assert.match(unresolvable.dns.error ?? '', /ENOTFOUND/);

  const mixed = await runCheck({
    url: 'https://mixed.hookwarden.test/',
    lookup: async () => [
      { address: '192.0.2.10', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ],
  });
  assert.deepEqual(codes(mixed), ['HW_CHECK_ADDRESS_FORBIDDEN']);
  assert.deepEqual(
    mixed.dns.answers.map((a) => a.allowed),
    [false, false],
  );
  assert.equal(mixed.connect.address, undefined);

  const loopback = await runCheck({ url: 'https://127.0.0.1:1/' });
  assert.deepEqual(codes(loopback), ['HW_CHECK_ADDRESS_FORBIDDEN']);
  assert.match(loopback.findings[0]!.fix ?? '', /--allow-private-targets/);
  assert.equal(loopback.connect.address, undefined);
});

test('a resolver or a test-event sender that never answers is cut off by the time bound', async () => {
  const silentDns = await runCheck({
    url: 'https://slow.hookwarden.test/',
    timeoutMs: 300,
    lookup: () => new Promise(() => {}),
  });
  assert.deepEqual(codes(silentDns).sort(), ['HW_CHECK_DNS_FAILED', 'HW_CHECK_TIME_BOUND']);

  const port = await serveHttps();
  const silentSender = await runCheck({
    url: `https://127.0.0.1:${port}/`,
    allowPrivateTargets: true,
    serverCaPem: fx.serverRoot.certPem,
    timeoutMs: 1500,
    sendTestEvent: () => new Promise(() => {}),
  });
  assert.equal(silentSender.http.error, 'no answer within the time bound');
  assert.ok(codes(silentSender).includes('HW_CHECK_HTTP_FAILED'));
  assert.ok(codes(silentSender).includes('HW_CHECK_TIME_BOUND'));
});

test('a policy suite OpenSSL does not know is rejected, not a crash', async () => {
  const port = await serveHttps();
  const report = await runCheck({
    url: `https://127.0.0.1:${port}/`,
    allowPrivateTargets: true,
    serverCaPem: fx.serverRoot.certPem,
    cipherPolicy: {
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: ['NO-SUCH-SUITE', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
      tls13Suites: [],
    },
  });
  assert.deepEqual(report.tls.ciphers, [
    { version: 'TLSv1.2', accepted: ['ECDHE-ECDSA-AES128-GCM-SHA256'], rejected: ['NO-SUCH-SUITE'] },
  ]);
});

test('plain http:// URLs are judged without a connection', async () => {
  const report = await runCheck({ url: 'http://127.0.0.1:1/', allowPrivateTargets: true });
  assert.deepEqual(codes(report), ['HW_CHECK_URL_NOT_HTTPS']);
  assert.equal(report.connect.address, undefined);
});

test('bad options throw once, naming the field', async () => {
  const cases: [Parameters<typeof runCheck>[0], string, RegExp][] = [
    [{ url: 'not a url' }, 'HW_CHECK_URL_INVALID', /url/],
    [{ url: 'ftp://example.com/' }, 'HW_CHECK_URL_INVALID', /scheme/],
    [{ url: 'https://a.test/', timeoutMs: 0 }, 'HW_CHECK_OPTIONS_INVALID', /^timeoutMs/],
    [{ url: 'https://a.test/', concurrency: 0.5 }, 'HW_CHECK_OPTIONS_INVALID', /^concurrency/],
    [{ url: 'https://a.test/', serverCaPem: 'nope' }, 'HW_CHECK_OPTIONS_INVALID', /^serverCaPem/],
    [
      {
        url: 'https://a.test/',
        clientIdentity: {
          certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
          keyPem: '',
          chainPem: '',
        },
      },
      'HW_CHECK_OPTIONS_INVALID',
      /^clientIdentity\.certPem/,
    ],
  ];
  for (const [opts, code, message] of cases) {
    await assert.rejects(runCheck(opts), (err: unknown) => {
      assert.ok(err instanceof HookwardenError);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    });
  }
});
