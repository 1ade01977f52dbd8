import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { caBundlePem, chainPem, createHierarchy, issueCertificate, openPkiStore } from '@hookwarden/pki';
import { listen, tempDir } from '@hookwarden/testkit';
import { HookwardenError } from '@hookwarden/verify/errors';
import fc from 'fast-check';
import { parseDuration, useColor } from '../src/commands/check.ts';

const bin = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const dir = tempDir();
let port: number;
let server: ReturnType<typeof createServer>;
const files: Record<string, string> = {};

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, 'check', ...args],
      { env: { ...process.env, NO_COLOR: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

before(async () => {
  const platform = await createHierarchy({ subject: 'CN=callbacks.hookwarden.test,O=Hookwarden' });
  const receiver = await createHierarchy({ subject: 'CN=unused', rootSubject: 'CN=Receiver Root' });
  const tlsLeaf = await issueCertificate(receiver.intermediate, {
    subject: 'CN=localhost',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const write = (name: string, content: string) => {
    files[name] = join(dir.path, name);
    writeFileSync(files[name], content, { mode: 0o600 });
  };
  write('client.pem', platform.leaf.certPem);
  write('client-key.pem', platform.leaf.keyPem);
  write('client-chain.pem', chainPem(platform));
  write('platform-ca.pem', caBundlePem(platform));
  write('server-ca.pem', receiver.root.certPem);
  files.pki = join(dir.path, 'pki');
  const store = await openPkiStore(files.pki);
  const stored = await store.init({ subject: 'CN=callbacks.hookwarden.test,O=Hookwarden Store' });
  server = createServer(
    {
      cert: tlsLeaf.certPem + receiver.intermediate.certPem,
      key: tlsLeaf.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
      ca: caBundlePem(platform) + stored.caBundlePem,
    },
    (_req, res) => res.end('ok'),
  );
  server.on('tlsClientError', () => {});
  port = await listen(server);
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  dir.cleanup();
});

test('--help documents every option; bad usage exits 2', async () => {
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  for (const flag of [
    '--json',
    '--client-cert',
    '--client-key',
    '--client-chain',
    '--pki-dir',
    '--ca',
    '--timeout',
    '--allow-private-targets',
  ]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  assert.equal((await cli([])).code, 2);
  assert.equal((await cli(['https://a.test/', '--timeout', 'soon'])).code, 2);
  assert.equal((await cli(['https://a.test/', '--client-cert', files['client.pem']!])).code, 2);
});

test('a loopback URL without --allow-private-targets says which flag is missing', async () => {
  const r = await cli([`https://127.0.0.1:${port}/`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--allow-private-targets/);
  assert.match(r.stdout, /HW_CHECK_ADDRESS_FORBIDDEN/);
});

test('--json prints the documented report; the table has no colours off a terminal', async () => {
  const args = [
    `https://127.0.0.1:${port}/hooks`,
    '--client-cert',
    files['client.pem']!,
    '--client-key',
    files['client-key.pem']!,
    '--client-chain',
    files['client-chain.pem']!,
    '--platform-ca',
    files['platform-ca.pem']!,
    '--ca',
    files['server-ca.pem']!,
    '--allow-private-targets',
    '--timeout',
    '10s',
  ];
  const [json, table] = await Promise.all([cli([...args, '--json']), cli(args)]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.schema, 1);
  assert.equal(report.verdict, 'compatible');
  assert.equal(report.clientAuth.mode, 'required');
  assert.equal(report.clientAuth.platformCaAdvertised, true);
  assert.equal(report.clientAuth.withPlatformCertificate.ok, true);
  assert.equal(report.http.statusCode, 200);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /COMPATIBLE/);
  assert.match(table.stdout, /Client auth\s+required/);
  assert.doesNotMatch(table.stdout, /\u001b\[/);
  assert.doesNotMatch(json.stdout + table.stdout, /PRIVATE KEY/);
});

test('--pki-dir takes the identity and the CA bundle from a PKI store', async () => {
  const url = `https://127.0.0.1:${port}/hooks`;
  const r = await cli([
    url,
    '--pki-dir',
    files.pki!,
    '--ca',
    files['server-ca.pem']!,
    '--allow-private-targets',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.clientAuth.withPlatformCertificate.ok, true);
  assert.equal(report.clientAuth.platformCaAdvertised, true);
  const missing = await cli([url, '--pki-dir', join(dir.path, 'nothing-here'), '--allow-private-targets']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /pki-dir|PKI/i);
});

test('colours only on a terminal without NO_COLOR; durations parse', () => {
  assert.equal(useColor({ isTTY: true }, {}), true);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(useColor({ isTTY: false }, {}), false);
  assert.equal(useColor({}, {}), false);
  assert.equal(parseDuration('15s'), 15_000);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('2'), 2000);
  assert.throws(() => parseDuration('-1s'), /not a duration/);
  fc.assert(
    fc.property(fc.string(), (text) => {
      try {
        assert.ok(Number.isFinite(parseDuration(text)));
      } catch (err) {
        assert.ok(err instanceof HookwardenError, String(err));
      }
    }),
  );
});
