import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@hookwarden/testkit';

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

test('a bad option value is refused with its code and the field, exit 1', () => {
  const r = cli('caddy', ...required, '--ca-bundle', 'ca.pem');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /HW_PROXY_CONFIG_INVALID: caBundlePath: must be an absolute path/);
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
    assert.match(r.stderr, /HW_PROXY_CONFIG_INVALID: verifyDepth: /);
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
