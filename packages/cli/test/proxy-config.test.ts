import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { freePort, listen, needTools, post, startDaemon, startNginxHttp, tempDir, which } from '@hookwarden/testkit';

const BIN = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const dir = tempDir();
after(dir.cleanup);

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'proxy-config', ...args], { encoding: 'utf8' });
}

const required = [
  '--server-name',
  'hooks.example.com',
  '--upstream',
  'http://127.0.0.1:3000',
  '--ca-bundle',
  '/etc/hookwarden/ca.pem',
  '--cert',
  '/etc/hookwarden/server.pem',
  '--key',
  '/etc/hookwarden/server.pem.key',
];

test('prints the nginx configuration; --subject switches to checking in the proxy', () => {
  const r = cli('nginx', ...required, '--subject', 'CN=hooks.platform.test,O=Acme');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ssl_verify_client on;/);
  assert.match(r.stdout, /map \$ssl_client_s_dn/);
  assert.match(r.stdout, /"CN=hooks\.platform\.test,O=Acme" 1;/);
});

test('--out writes the file', () => {
  const out = join(dir.path, 'haproxy.cfg');
  const r = cli('haproxy', ...required, '--listen', '127.0.0.1:8443', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(readFileSync(out, 'utf8'), /bind 127\.0\.0\.1:8443 ssl crt/);
});

test('a bad option value is refused with its code and the flag as typed, exit 1', () => {
  const r = cli('caddy', ...required, '--ca-bundle', '/etc/my ca.pem');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /HW_PROXY_CONFIG_INVALID: --ca-bundle: must be an absolute path of letters/);
  const dn = cli('nginx', ...required, '--subject', 'CN=a', '--subject', 'not a dn');
  assert.equal(dn.status, 1);
  assert.match(dn.stderr, /HW_PROXY_CONFIG_INVALID: --subject #2: not an RFC 4514 DN/);
  const depth = cli('haproxy', ...required, '--verify-depth', '5');
  assert.match(depth.stderr, /HW_PROXY_CONFIG_INVALID: --verify-depth: HAProxy cannot limit/);
  const standalone = cli('caddy', ...required, '--standalone', dir.path);
  assert.match(standalone.stderr, /--standalone: nginx only/);
});

test('relative paths are resolved against the current directory', () => {
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      'proxy-config',
      'nginx',
      ...required.slice(0, 4),
      '--ca-bundle',
      'ca.pem',
      '--cert',
      'tls/s.pem',
      '--key',
      '../k.pem',
    ],
    { encoding: 'utf8', cwd: dir.path },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`ssl_client_certificate ${join(dir.path, 'ca.pem')};`), r.stdout);
  assert.ok(r.stdout.includes(`ssl_certificate ${join(dir.path, 'tls', 's.pem')};`));
  assert.ok(r.stdout.includes(`ssl_certificate_key ${join(dir.path, '..', 'k.pem')};`));
});

test('--upstream-ca: nginx verifies an https app against that bundle and its name', () => {
  const https = required.map((a) => (a === 'http://127.0.0.1:3000' ? 'https://app.internal:8443' : a));
  const r = cli('nginx', ...https, '--upstream-ca', '/etc/hookwarden/app-ca.pem');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /proxy_ssl_verify on;/);
  assert.match(r.stdout, /proxy_ssl_trusted_certificate \/etc\/hookwarden\/app-ca\.pem;/);
  assert.match(r.stdout, /proxy_ssl_name app\.internal;/);
});

test('--verify-depth: Caddy and HAProxy work without it and refuse a value they cannot apply', () => {
  for (const kind of ['caddy', 'haproxy']) {
    assert.equal(cli(kind, ...required).status, 0, kind);
    const r = cli(kind, ...required, '--verify-depth', '5');
    assert.equal(r.status, 1, kind);
    assert.match(r.stderr, /HW_PROXY_CONFIG_INVALID: --verify-depth: /);
  }
  assert.equal(cli('nginx', ...required, '--verify-depth', '5').status, 0);
});

test('an unknown kind or option prints usage, exit 2; --help exits 0', () => {
  assert.equal(cli('apache', ...required).status, 2);
  const unknown = cli('nginx', '--bogus');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Usage: hookwarden proxy-config/);
  const help = cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--server-name NAME/);
});

describe('the nginx configuration in a real nginx', { skip: needTools('nginx') }, () => {
  let upstream: Server;
  let upstreamUrl: string;
  const paths: Record<string, string> = {};
  let platform: { chain: string; key: string };
  let serverCaPem: string;

  before(async () => {
    const h = await createHierarchy({ subject: 'CN=hooks.platform.test' });
    const serverCa = await createSelfSignedCa({ subject: 'CN=Receiver CA' });
    const tls = await issueCertificate(serverCa, { subject: 'CN=localhost', dnsNames: ['localhost'], usage: 'server' });
    platform = { chain: chainPem(h), key: h.leaf.keyPem };
    serverCaPem = serverCa.certPem;
    for (const [name, text] of Object.entries({
      'ca.pem': caBundlePem(h),
      'tls.pem': tls.certPem,
      'tls-key.pem': tls.keyPem,
    })) {
      paths[name] = join(dir.path, name);
      writeFileSync(paths[name], text, { mode: 0o600 });
    }
    upstream = createServer((req, res) => res.end(String(req.headers['x-ssl-client-subject-dn'])));
    upstreamUrl = `http://127.0.0.1:${await listen(upstream)}`;
  });
  after(() => new Promise((r) => upstream.close(r)));

  const options = (port: number) => [
    '--server-name',
    'localhost',
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    upstreamUrl,
    '--ca-bundle',
    paths['ca.pem'] as string,
    '--cert',
    paths['tls.pem'] as string,
    '--key',
    paths['tls-key.pem'] as string,
  ];

  test('--standalone runs as written, keeping everything nginx writes in its folder', async () => {
    const prefix = join(dir.path, 'standalone');
    mkdirSync(prefix);
    const conf = join(prefix, 'nginx.conf');
    const nginx = await startDaemon(which('nginx') as string, (port) => {
      const r = cli('nginx', ...options(port), '--standalone', prefix, '--out', conf);
      assert.equal(r.status, 0, r.stderr);
      return ['-p', prefix, '-c', conf];
    });
    try {
      const ok = await post(nginx.port, { tls: { ca: serverCaPem, cert: platform.chain, key: platform.key } });
      assert.equal(ok.status, 200, nginx.stderr());
      assert.equal(ok.body, 'CN=hooks.platform.test');
      const anonymous = await post(nginx.port, { tls: { ca: serverCaPem } });
      assert.equal(anonymous.status, 400, 'no client certificate, no callback');
      assert.ok(existsSync(join(prefix, 'nginx.pid')) && existsSync(join(prefix, 'error.log')));
    } finally {
      await nginx.stop();
    }
  });

  test('two configurations for one host name on two ports live in one http block', async () => {
    const second = await freePort();
    const nginx = await startNginxHttp(join(dir.path, 'two'), (port) =>
      [port, second].map((p) => cli('nginx', ...options(p)).stdout).join('\n'),
    );
    try {
      for (const port of [nginx.port, second]) {
        const r = await post(port, { tls: { ca: serverCaPem, cert: platform.chain, key: platform.key } });
        assert.equal(r.status, 200, `${port}: ${nginx.stderr()}`);
      }
    } finally {
      await nginx.stop();
    }
  });
});
