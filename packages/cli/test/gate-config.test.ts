import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { DEFAULT_MAX_BODY_BYTES, type GateFlags, loadGateConfig } from '../src/gate/config.ts';

const dir = tempDir();
after(dir.cleanup);
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function refuses(flags: GateFlags, field: string): void {
  assert.throws(
    () => loadGateConfig(flags),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HW_GATE_CONFIG_INVALID', err.message);
      assert.ok(err.message.startsWith(field), `${err.message} should name ${field}`);
      return true;
    },
  );
}

test('flags become a policy of exactly the parts given', () => {
  const c = loadGateConfig({
    upstream: 'http://127.0.0.1:3000',
    listen: '0',
    'trust-proxy': ['127.0.0.2/32'],
    'proxy-headers': 'nginx',
    'require-subject': ['CN=hooks'],
    'allow-ip': ['10.0.0.0/8'],
    secret: [SECRET],
  });
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 0 });
  assert.equal(c.tls, undefined);
  assert.equal(c.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  assert.deepEqual(Object.keys(c.policy).sort(), [
    'clientCertificate',
    'ipAllowlist',
    'replay',
    'signature',
    'trustedProxies',
  ]);
});

test('bad values are refused naming the flag', () => {
  refuses({}, '--upstream');
  refuses({ upstream: 'ftp://x' }, '--upstream');
  refuses({ upstream: 'http://x', listen: 'x:y' }, '--listen');
  refuses({ upstream: 'http://x', 'max-body': '-1' }, '--max-body');
  refuses({ upstream: 'http://x', 'tls-cert': '/a' }, '--tls-cert/--tls-key');
  refuses({ upstream: 'http://x', 'tls-cert': '/a', 'tls-key': '/b' }, '--client-ca');
  refuses({ upstream: 'http://x', secret: ['whsec_x'], tolerance: '5m' }, '--tolerance');
  refuses({ upstream: 'http://x', 'require-subject': ['CN=a'] }, '--require-subject');
  refuses({ upstream: 'http://x', 'tls-cert': '/nope', 'tls-key': '/nope', 'client-ca': '/nope' }, '--client-ca');
});

test('--config: the policy is taken as written, and never merged with policy flags', () => {
  const path = join(dir.path, 'gate.json');
  writeFileSync(
    path,
    JSON.stringify({ upstream: 'http://127.0.0.1:9', listen: 8081, policy: { signature: { secrets: [SECRET] } } }),
    {
      mode: 0o600,
    },
  );
  chmodSync(path, 0o600);
  const c = loadGateConfig({ config: path });
  assert.deepEqual(c.policy, { signature: { secrets: [SECRET] } });
  assert.equal(c.listen.port, 8081);
  assert.equal(loadGateConfig({ config: path, listen: '9000' }).listen.port, 9000);
  refuses({ config: path, secret: [SECRET] }, '--secret');
});

test('--config holding a secret must not be readable by others', () => {
  const path = join(dir.path, 'open.json');
  writeFileSync(path, JSON.stringify({ upstream: 'http://127.0.0.1:9', policy: { signature: { secrets: [SECRET] } } }));
  chmodSync(path, 0o644);
  refuses({ config: path }, '--config');
  const broken = join(dir.path, 'broken.json');
  writeFileSync(broken, '{');
  refuses({ config: broken }, '--config');
});
