import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { FileReplayStore } from '@hookwarden/verify';
import { HookwardenError } from '@hookwarden/verify/errors';
import fc from 'fast-check';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_UPSTREAM_CONNECTIONS,
  type GateFlags,
  loadGateConfig,
} from '../src/gate/config.ts';
import { GATE_CODES, type GateCode, GateError } from '../src/gate/errors.ts';

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
  assert.deepEqual(loadGateConfig({ upstream: 'http://[::1]:3000', listen: '[::1]:8443' }).listen, {
    host: '::1',
    port: 8443,
  });
  assert.equal(c.tls, undefined);
  assert.equal(c.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  assert.equal(c.upstreamConnections, DEFAULT_UPSTREAM_CONNECTIONS);
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
  for (const bad of ['0', '-1', '1.5', '8x', '', '99999999999999999999']) {
    refuses({ upstream: 'http://x', 'upstream-connections': bad }, '--upstream-connections');
  }
  refuses({ upstream: 'http://x', 'tls-cert': '/a' }, '--tls-cert/--tls-key');
  refuses({ upstream: 'http://x', 'tls-cert': '/a', 'tls-key': '/b' }, '--client-ca');
  refuses({ upstream: 'http://x', secret: ['whsec_x'], tolerance: '5m' }, '--tolerance');
  refuses({ upstream: 'http://x', 'require-subject': ['CN=a'] }, '--require-subject');
  refuses({ upstream: 'http://x', 'tls-cert': '/nope', 'tls-key': '/nope', 'client-ca': '/nope' }, '--client-ca');
});

test('an upstream URL with credentials is refused, a password alone too (the URL is logged)', () => {
  for (const upstream of ['http://:hunter2@127.0.0.1:3000', 'http://user@127.0.0.1:3000', 'http://u:p@[::1]:3000']) {
    refuses({ upstream }, '--upstream');
  }
});

describe('a client CA is always applied, or refused', () => {
  const ca = join(dir.path, 'ca.pem');
  const otherCa = join(dir.path, 'other-ca.pem');
  const cert = join(dir.path, 'server.pem');
  const key = join(dir.path, 'server.key');
  before(() => {
    writeFileSync(ca, 'CA PEM\n');
    writeFileSync(otherCa, 'OTHER CA PEM\n');
    writeFileSync(cert, 'CERT PEM\n');
    writeFileSync(key, 'KEY PEM\n', { mode: 0o600 });
  });
  function configFile(name: string, content: Record<string, unknown>): string {
    const path = join(dir.path, name);
    writeFileSync(path, JSON.stringify({ upstream: 'http://127.0.0.1:9', ...content }), { mode: 0o600 });
    return path;
  }

  test('TLS ending here from the file: a policy without a client certificate check gets one against tls.clientCa', () => {
    const path = configFile('tls-https.json', { tls: { cert, key, clientCa: ca }, policy: { https: true } });
    assert.deepEqual(loadGateConfig({ config: path }).policy, {
      https: true,
      clientCertificate: { source: 'socket', caBundlePem: 'CA PEM\n' },
    });
    // --client-ca overrides the file's, and is what the check trusts.
    const flagged = loadGateConfig({ config: path, 'client-ca': otherCa });
    assert.equal(flagged.tls?.clientCaPem, 'OTHER CA PEM\n');
    assert.equal(flagged.policy.clientCertificate?.caBundlePem, 'OTHER CA PEM\n');
    // --tls-cert/--tls-key next to a file without a tls block terminate TLS just the same.
    const plain = configFile('plain.json', { policy: { ipAllowlist: ['10.0.0.0/8'] } });
    assert.deepEqual(
      loadGateConfig({ config: plain, 'tls-cert': cert, 'tls-key': key, 'client-ca': ca }).policy.clientCertificate,
      { source: 'socket', caBundlePem: 'CA PEM\n' },
    );
  });

  test('TLS ending here: a policy reading the certificate from proxy headers, or trusting other CAs, is refused', () => {
    refuses(
      {
        config: configFile('tls-nginx.json', {
          tls: { cert, key, clientCa: ca },
          policy: { trustedProxies: ['127.0.0.2/32'], clientCertificate: { source: 'nginx' } },
        }),
      },
      'policy.clientCertificate.source',
    );
    const ownCa = configFile('tls-own-ca.json', {
      tls: { cert, key, clientCa: ca },
      policy: { clientCertificate: { source: 'socket', caBundlePem: 'OTHER CA PEM\n' } },
    });
    refuses({ config: ownCa }, 'policy.clientCertificate.caBundlePem');
    const sameCa = configFile('tls-same-ca.json', {
      tls: { cert, key, clientCa: ca },
      policy: { clientCertificate: { source: 'socket', caBundlePem: 'CA PEM\n' } },
    });
    assert.equal(loadGateConfig({ config: sameCa }).policy.clientCertificate?.caBundlePem, 'CA PEM\n');
  });

  test('behind a proxy: --client-ca next to --config anchors the forwarded certificate', () => {
    const path = configFile('proxy.json', {
      policy: { trustedProxies: ['127.0.0.2/32'], clientCertificate: { source: 'nginx', subject: 'CN=a' } },
    });
    assert.deepEqual(loadGateConfig({ config: path, 'client-ca': ca }).policy.clientCertificate, {
      source: 'nginx',
      subject: 'CN=a',
      caBundlePem: 'CA PEM\n',
    });
    const none = configFile('proxy-none.json', { policy: { ipAllowlist: ['10.0.0.0/8'] } });
    refuses({ config: none, 'client-ca': ca }, '--client-ca');
    refuses({ config: configFile('ca-only.json', { tls: { clientCa: ca }, policy: { https: true } }) }, 'tls.clientCa');
  });

  test('--client-ca without --tls-cert or --proxy-headers is refused, not ignored', () => {
    refuses({ upstream: 'http://x', 'client-ca': ca, 'allow-ip': ['127.0.0.1/32'] }, '--client-ca');
    refuses(
      { upstream: 'http://x', 'client-ca': ca, 'trust-proxy': ['127.0.0.2/32'], secret: [SECRET] },
      '--client-ca',
    );
    const proxied = loadGateConfig({
      upstream: 'http://x',
      'client-ca': ca,
      'trust-proxy': ['127.0.0.2/32'],
      'proxy-headers': 'nginx',
    });
    assert.equal(proxied.policy.clientCertificate?.caBundlePem, 'CA PEM\n');
  });
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

test("--upstream-connections and the file's upstreamConnections set the upstream connection limit", () => {
  assert.equal(loadGateConfig({ upstream: 'http://x', 'upstream-connections': '3' }).upstreamConnections, 3);
  const path = join(dir.path, 'connections.json');
  writeFileSync(path, JSON.stringify({ upstream: 'http://127.0.0.1:9', upstreamConnections: 5, policy: {} }));
  assert.equal(loadGateConfig({ config: path }).upstreamConnections, 5);
  assert.equal(loadGateConfig({ config: path, 'upstream-connections': '7' }).upstreamConnections, 7);
  writeFileSync(path, JSON.stringify({ upstream: 'http://127.0.0.1:9', upstreamConnections: 0, policy: {} }));
  refuses({ config: path }, 'upstreamConnections');
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

test('property: any flag values give a config or a HookwardenError, never anything else', () => {
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom('http://127.0.0.1:1', '127.0.0.1:0', '0', '65536', '[::1]:80', '/dev/null', SECRET, '10.0.0.0/8'),
  );
  const list = fc.option(fc.array(value, { maxLength: 2 }), { nil: undefined });
  fc.assert(
    fc.property(
      fc.record(
        {
          listen: value,
          upstream: value,
          'tls-cert': value,
          'tls-key': value,
          'client-ca': value,
          'trust-proxy': list,
          'proxy-headers': value,
          'require-subject': list,
          pin: list,
          'allow-ip': list,
          secret: list,
          tolerance: value,
          'trust-document': value,
          'max-body': value,
          'upstream-connections': value,
        },
        { requiredKeys: [] },
      ),
      (flags) => {
        try {
          loadGateConfig(flags as GateFlags);
        } catch (err) {
          assert.ok(err instanceof HookwardenError, String(err));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('every gate code has its status, a default message, and the {code, detail} body', () => {
  for (const [code, { status, message }] of Object.entries(GATE_CODES)) {
    const err = new GateError(code as GateCode);
    assert.ok(err instanceof HookwardenError);
    assert.equal(err.status, status);
    assert.deepEqual(err.toJSON(), { code, detail: message });
    assert.equal(new GateError(code as GateCode, 'specific').message, 'specific');
  }
});

describe('--replay-dir and --xfcc-elements', () => {
  test('--replay-dir keeps the replay check in a FileReplayStore, where a signature is checked', async () => {
    const replayDir = join(dir.path, 'replay');
    const c = loadGateConfig({ upstream: 'http://x', secret: [SECRET], 'replay-dir': replayDir });
    const store = (c.policy.replay as { store: FileReplayStore }).store;
    assert.ok(store instanceof FileReplayStore);
    refuses({ upstream: 'http://x', 'replay-dir': replayDir, 'allow-ip': ['10.0.0.0/8'] }, '--replay-dir');
    refuses({ upstream: 'http://x', secret: [SECRET], 'replay-dir': '' }, '--replay-dir');
    const file = (policy: unknown) => {
      const path = join(dir.path, 'replay-config.json');
      writeFileSync(path, JSON.stringify({ upstream: 'http://x', replayDir, policy }), { mode: 0o600 });
      chmodSync(path, 0o600);
      return path;
    };
    const fromFile = loadGateConfig({ config: file({ signature: { secrets: [SECRET] }, replay: true }) });
    assert.ok((fromFile.policy.replay as { store: unknown }).store instanceof FileReplayStore);
    refuses({ config: file({ signature: { secrets: [SECRET] }, replay: false }) }, 'replayDir');
    refuses({ config: file({ signature: { secrets: [SECRET] }, replay: { maxEntries: 5 } }) }, 'replayDir');
  });

  test('--xfcc-elements goes with --proxy-headers envoy', () => {
    const c = loadGateConfig({
      upstream: 'http://x',
      'trust-proxy': ['127.0.0.2/32'],
      'proxy-headers': 'envoy',
      pin: ['ab'.repeat(32)],
      'xfcc-elements': '2',
    });
    assert.equal(c.policy.clientCertificate?.xfccElements, 2);
    refuses(
      { upstream: 'http://x', 'trust-proxy': ['127.0.0.2/32'], 'proxy-headers': 'nginx', 'xfcc-elements': '2' },
      '--xfcc-elements',
    );
  });
});

test('the resource limits: defaults, flags, file keys, and a budget that must hold one body', () => {
  const d = loadGateConfig({ upstream: 'http://x' });
  assert.deepEqual([d.maxBufferedBytes, d.maxClientConnections, d.bodyTimeoutMs], [64 * 1024 * 1024, 32, 30_000]);
  const f = loadGateConfig({
    upstream: 'http://x',
    'max-body': '1000',
    'max-buffered': '5000',
    'max-client-connections': '4',
    'body-timeout': '2',
  });
  assert.deepEqual([f.maxBufferedBytes, f.maxClientConnections, f.bodyTimeoutMs], [5000, 4, 2000]);
  refuses({ upstream: 'http://x', 'max-body': '1000', 'max-buffered': '999' }, '--max-buffered');
  refuses({ upstream: 'http://x', 'max-client-connections': '0' }, '--max-client-connections');
  refuses({ upstream: 'http://x', 'body-timeout': '1.5' }, '--body-timeout');
  const path = join(dir.path, 'limits.json');
  writeFileSync(path, JSON.stringify({ upstream: 'http://x', maxBufferedBytes: 2, policy: { https: true } }));
  refuses({ config: path }, 'maxBufferedBytes');
});
