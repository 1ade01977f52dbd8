import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { needTools, tempDir, which } from '@hookwarden/testkit';
import fc from 'fast-check';
import { HookwardenError } from '../src/errors.ts';
import { CLEARED_HEADERS } from '../src/proxy-config/headers.ts';
import {
  generateProxyConfig,
  PROXY_CONFIG_KINDS,
  type ProxyConfigKind,
  type ProxyConfigOptions,
} from '../src/proxy-config/index.ts';
import { opensslSelfSigned } from './helpers/openssl.ts';

const dir = tempDir();
after(dir.cleanup);

const base: ProxyConfigOptions = {
  serverName: 'hooks.example.com',
  listen: 8443,
  upstream: 'http://127.0.0.1:3000',
  caBundlePath: '/etc/hookwarden/platform-ca.pem',
  serverCertPath: '/etc/hookwarden/server.pem',
  serverKeyPath: '/etc/hookwarden/server.pem.key',
};

function rejects(kind: ProxyConfigKind, opts: Partial<ProxyConfigOptions>, field: string): void {
  assert.throws(
    () => generateProxyConfig(kind, { ...base, ...opts } as ProxyConfigOptions),
    (err: unknown) => {
      assert.ok(err instanceof HookwardenError, String(err));
      assert.equal(err.code, 'HW_PROXY_CONFIG_INVALID');
      assert.ok(err.message.startsWith(`${field}`), `${err.message} should name ${field}`);
      return true;
    },
  );
}

describe('nginx generator', () => {
  const conf = generateProxyConfig('nginx', base);
  test('requires and verifies client certificates against the CA bundle, as the seed instructs', () => {
    assert.match(conf, /^\s+ssl_client_certificate \/etc\/hookwarden\/platform-ca\.pem;$/m);
    assert.match(conf, /^\s+ssl_verify_client on;$/m);
    assert.match(conf, /^\s+ssl_verify_depth 2;$/m);
    assert.match(conf, /^\s+listen 8443 ssl;$/m);
  });
  test('forwards the certificate facts the verify parsers read', () => {
    for (const [header, variable] of [
      ['X-SSL-Client-Verify', '$ssl_client_verify'],
      ['X-SSL-Client-Subject-DN', '$ssl_client_s_dn'],
      ['X-SSL-Client-Issuer-DN', '$ssl_client_i_dn'],
      ['X-SSL-Client-Fingerprint', '$ssl_client_fingerprint'],
      ['X-SSL-Client-Serial', '$ssl_client_serial'],
      ['X-SSL-Client-Cert', '$ssl_client_escaped_cert'],
    ]) {
      assert.ok(conf.includes(`proxy_set_header ${header} ${variable};`), header);
    }
  });
  test('clears inbound copies of every other certificate header', () => {
    for (const header of CLEARED_HEADERS) assert.match(conf, new RegExp(`proxy_set_header ${header} `), header);
    assert.ok(conf.includes('proxy_set_header Hookwarden-Verified "";'));
  });
  test('check mode refuses in nginx with a map on the DN and on the SHA-1 fingerprint', () => {
    const c = generateProxyConfig('nginx', {
      ...base,
      mode: 'check',
      subjects: ['CN=hooks.platform.test, O=Acme\\, Inc., C=US'],
      fingerprints: ['9D:65:7D:6F:B3:53:16:38:1E:A3:C1:77:BF:F0:99:B8:92:B5:B2:57'],
    });
    assert.match(c, /map \$ssl_client_s_dn \$\w+ \{/);
    // Re-printed as OpenSSL prints a certificate's DN; the backslash doubled for nginx's quoting.
    assert.ok(c.includes('"CN=hooks.platform.test,O=Acme\\\\, Inc.,C=US" 1;'), c);
    assert.ok(c.includes('9d657d6fb35316381ea3c177bff099b892b5b257 1;'));
    assert.equal(c.match(/if \(\$\w+ = 0\) \{ return 403; \}/g)?.length, 2);
  });
  test('refuses SHA-256 pins: nginx has only the SHA-1 variable', () => {
    rejects('nginx', { mode: 'check', fingerprints: ['ab'.repeat(32)] }, 'fingerprints');
  });
});

describe('haproxy generator', () => {
  const conf = generateProxyConfig('haproxy', base);
  test('binds with verify required against the CA bundle', () => {
    assert.match(
      conf,
      /bind :8443 ssl crt \/etc\/hookwarden\/server\.pem ca-file \/etc\/hookwarden\/platform-ca\.pem verify required/,
    );
  });
  test('deletes inbound copies, then sets the facts', () => {
    for (const header of CLEARED_HEADERS) assert.ok(conf.includes(`http-request del-header ${header}\n`), header);
    assert.ok(conf.includes('http-request set-header X-SSL-Client-Subject-DN %{+Q}[ssl_c_s_dn(,0,rfc2253)]'));
    assert.ok(conf.includes('http-request set-header X-SSL-Client-SHA1 %[ssl_c_sha1,hex]'));
    assert.ok(conf.includes('http-request set-header X-SSL-Client-DER %[ssl_c_der,base64]'));
    assert.ok(conf.lastIndexOf('del-header') < conf.indexOf('set-header'));
  });
  test('check mode: ACLs on the DN and on SHA-256 through the DER', () => {
    const c = generateProxyConfig('haproxy', {
      ...base,
      mode: 'check',
      subjects: ['CN=a$b\\"c'],
      fingerprints: ['AB'.repeat(32)],
    });
    assert.ok(c.includes('acl hookwarden_subject_ok ssl_c_s_dn(,0,rfc2253) -m str -i "CN=a\\$b\\\\\\"c"'), c);
    assert.ok(c.includes(`ssl_c_der,sha2(256),hex -m str -i ${'ab'.repeat(32)}`));
  });
  test('the key must be where HAProxy 2.6 looks for it', () => {
    rejects('haproxy', { serverKeyPath: '/etc/hookwarden/other.key' }, 'serverKeyPath');
  });
});

describe('caddy generator', () => {
  const conf = generateProxyConfig('caddy', base);
  test('uses the Caddy 2.6 client_auth syntax', () => {
    assert.match(conf, /mode require_and_verify/);
    assert.match(conf, /trusted_ca_cert_file \/etc\/hookwarden\/platform-ca\.pem/);
    assert.ok(conf.includes('header_up X-SSL-Client-Subject-DN {http.request.tls.client.subject}'));
    assert.ok(conf.includes('header_up X-SSL-Client-Fingerprint-SHA256 {http.request.tls.client.fingerprint}'));
    assert.ok(conf.includes('header_up X-SSL-Client-DER {http.request.tls.client.certificate_der_base64}'));
    assert.ok(conf.includes('header_up -Hookwarden-Verified'));
  });
  test('refuses a DN check (Go re-orders DNs) and SHA-1 pins', () => {
    rejects('caddy', { mode: 'check', subjects: ['CN=x'] }, 'subjects');
    rejects('caddy', { mode: 'check', fingerprints: ['ab'.repeat(20)] }, 'fingerprints');
  });
});

describe('an https upstream must prove it is the app', () => {
  const https = { ...base, upstream: 'https://app.internal:8443' };
  test('nginx verifies the certificate against the system bundle and the upstream name', () => {
    const c = generateProxyConfig('nginx', https);
    assert.match(c, /^\s+proxy_pass https:\/\/hookwarden_hooks_example_com_8443;$/m);
    assert.match(c, /^\s+proxy_ssl_verify on;$/m);
    assert.match(c, /^\s+proxy_ssl_trusted_certificate \/etc\/ssl\/certs\/ca-certificates\.crt;$/m);
    // Not the default $proxy_host, which is the upstream block's name here.
    assert.match(c, /^\s+proxy_ssl_name app\.internal;$/m);
    assert.match(c, /^\s+proxy_ssl_server_name on;$/m);
  });
  test("nginx uses the app's own CA bundle when given", () => {
    const c = generateProxyConfig('nginx', { ...https, upstreamCaBundlePath: '/etc/hookwarden/app-ca.pem' });
    assert.match(c, /^\s+proxy_ssl_trusted_certificate \/etc\/hookwarden\/app-ca\.pem;$/m);
  });
  test('HAProxy checks the name as well as the chain (sni + verifyhost)', () => {
    assert.match(
      generateProxyConfig('haproxy', https),
      /^\s+server app app\.internal:8443 ssl verify required ca-file @system-ca sni str\(app\.internal\) verifyhost app\.internal$/m,
    );
    assert.match(
      generateProxyConfig('haproxy', { ...https, upstreamCaBundlePath: '/etc/hookwarden/app-ca.pem' }),
      / ssl verify required ca-file \/etc\/hookwarden\/app-ca\.pem sni str\(app\.internal\) verifyhost app\.internal$/m,
    );
  });
  test("Caddy verifies by default, and trusts the app's own CA bundle when given", () => {
    assert.doesNotMatch(generateProxyConfig('caddy', https), /tls_trusted_ca_certs|tls_insecure_skip_verify/);
    const c = generateProxyConfig('caddy', { ...https, upstreamCaBundlePath: '/etc/hookwarden/app-ca.pem' });
    assert.match(c, /^\s+transport http \{\n\s+tls_trusted_ca_certs \/etc\/hookwarden\/app-ca\.pem\n\s+\}$/m);
  });
  test('a plain http upstream gets no upstream TLS settings', () => {
    assert.doesNotMatch(generateProxyConfig('nginx', base), /proxy_ssl_/);
    assert.doesNotMatch(generateProxyConfig('haproxy', base), /server app .* ssl/);
  });
  test('upstreamCaBundlePath is validated like the other paths, and only with https', () => {
    for (const kind of PROXY_CONFIG_KINDS) {
      rejects(kind, { ...https, upstreamCaBundlePath: 'app-ca.pem' }, 'upstreamCaBundlePath');
      rejects(kind, { ...https, upstreamCaBundlePath: '/etc/ca.pem;\n proxy_ssl_verify off' }, 'upstreamCaBundlePath');
      rejects(kind, { upstreamCaBundlePath: '/etc/hookwarden/app-ca.pem' }, 'upstreamCaBundlePath');
    }
  });
  test('nginx and HAProxy refuse an IP-address https upstream: they match DNS names only', () => {
    for (const kind of ['nginx', 'haproxy'] as const) {
      rejects(kind, { upstream: 'https://127.0.0.1:8443' }, 'upstream');
      rejects(kind, { upstream: 'https://[::1]:8443' }, 'upstream');
    }
    // Go checks IP SANs, and plain http has no certificate to check.
    assert.match(generateProxyConfig('caddy', { ...base, upstream: 'https://127.0.0.1:8443' }), /reverse_proxy/);
    assert.match(generateProxyConfig('nginx', base), /server 127\.0\.0\.1:3000;/);
  });
});

describe('verifyDepth is refused where it cannot be applied', () => {
  test('HAProxy and Caddy refuse a non-default depth, naming verifyDepth', () => {
    for (const depth of [0, 1, 3, 10]) {
      rejects('haproxy', { verifyDepth: depth }, 'verifyDepth');
      rejects('caddy', { verifyDepth: depth }, 'verifyDepth');
    }
  });
  test('the default (unset, or 2) still works everywhere; nginx applies any valid depth', () => {
    for (const kind of PROXY_CONFIG_KINDS) {
      generateProxyConfig(kind, base);
      generateProxyConfig(kind, { ...base, verifyDepth: 2 });
    }
    assert.match(generateProxyConfig('nginx', { ...base, verifyDepth: 0 }), /^\s+ssl_verify_depth 0;$/m);
  });
});

describe('options are validated once, naming the field', () => {
  const cases: [Partial<ProxyConfigOptions>, string][] = [
    [{ serverName: 'hooks.example.com; include /etc/passwd' }, 'serverName'],
    [{ serverName: '' }, 'serverName'],
    [{ listen: 70000 }, 'listen'],
    [{ listen: '127.0.0.1:443; x' }, 'listen'],
    [{ upstream: 'ftp://x' }, 'upstream'],
    [{ upstream: 'http://127.0.0.1:3000/path' }, 'upstream'],
    [{ upstream: 'http://u:p@127.0.0.1:3000' }, 'upstream'],
    [{ caBundlePath: 'relative.pem' }, 'caBundlePath'],
    [{ caBundlePath: '/etc/ca.pem;\n ssl_verify_client off' }, 'caBundlePath'],
    [{ serverCertPath: '/etc/$host.pem' }, 'serverCertPath'],
    [{ serverKeyPath: '/etc/../root/key' }, 'serverKeyPath'],
    [{ verifyDepth: 11 }, 'verifyDepth'],
    [{ mode: 'check' }, 'mode'],
    [{ subjects: ['CN=x'] }, 'mode'],
    [{ mode: 'check', subjects: ['CN=x\n}'] }, 'subjects[0]'],
    [{ mode: 'check', fingerprints: ['abc'] }, 'fingerprints[0]'],
    [{ sourceAddress: 'localhost' }, 'sourceAddress'],
  ];
  for (const [opts, field] of cases) {
    test(`${field}: ${JSON.stringify(opts)}`, () => {
      for (const kind of PROXY_CONFIG_KINDS) rejects(kind, opts, field);
    });
  }
  test('an unknown kind is refused', () => {
    assert.throws(() => generateProxyConfig('apache' as ProxyConfigKind, base), { code: 'HW_PROXY_CONFIG_INVALID' });
  });
  test("Object.prototype's members are not kinds", () => {
    for (const kind of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__']) {
      assert.throws(
        () => generateProxyConfig(kind as ProxyConfigKind, base),
        (err: unknown) =>
          err instanceof HookwardenError && err.code === 'HW_PROXY_CONFIG_INVALID' && /^kind:/.test(err.message),
        kind,
      );
    }
  });
});

test('property: arbitrary option values give a config or a ProxyConfigError, never anything else', () => {
  const str = fc.oneof(fc.string(), fc.constantFrom('/a/b.pem', 'hooks.example.com', 'http://127.0.0.1:1', '443'));
  fc.assert(
    fc.property(
      fc.constantFrom(...PROXY_CONFIG_KINDS),
      fc.record({
        serverName: str,
        listen: fc.oneof(str, fc.integer()),
        upstream: str,
        caBundlePath: str,
        serverCertPath: str,
        serverKeyPath: str,
        mode: fc.constantFrom('headers', 'check', 'x'),
        subjects: fc.array(fc.string(), { maxLength: 2 }),
        fingerprints: fc.array(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{40}$/)), { maxLength: 2 }),
      }),
      (kind, opts) => {
        try {
          generateProxyConfig(kind, opts as ProxyConfigOptions);
        } catch (err) {
          assert.ok(err instanceof HookwardenError && err.code === 'HW_PROXY_CONFIG_INVALID', String(err));
        }
      },
    ),
    { numRuns: 300 },
  );
});

// DNs are the one value escaped rather than restricted: a hostile DN must stay one key inside the
// real parsers. nginx -t / haproxy -c / caddy validate load the generated file as the server would.
const HOSTILE = 'CN=x\\"\\; } server { listen 1\\; } map $a $b { #,O=$(id)\\, {http.vars.x} \\\\';
const certs = join(dir.path, 'certs');

function selfSigned(): void {
  mkdirSync(certs, { recursive: true });
  opensslSelfSigned(join(certs, 'server.pem'), join(certs, 'server.pem.key'), '/CN=localhost');
  copyFileSync(join(certs, 'server.pem'), join(certs, 'ca.pem'));
}

type Variant = 'headers' | 'check' | 'ipv6' | 'https';

const UPSTREAMS: Record<Variant, string> = {
  headers: 'http://127.0.0.1:2',
  check: 'http://127.0.0.1:2',
  ipv6: 'http://[::1]:2',
  https: 'https://localhost:2',
};

function options(kind: ProxyConfigKind, variant: Variant): ProxyConfigOptions {
  const mode = variant === 'check' ? 'check' : 'headers';
  return {
    serverName: 'localhost',
    listen: variant === 'ipv6' ? '[::1]:1' : '127.0.0.1:1',
    upstream: UPSTREAMS[variant],
    ...(variant === 'https' ? { upstreamCaBundlePath: join(certs, 'ca.pem') } : {}),
    caBundlePath: join(certs, 'ca.pem'),
    serverCertPath: join(certs, 'server.pem'),
    serverKeyPath: join(certs, 'server.pem.key'),
    mode,
    ...(mode === 'check' && kind !== 'caddy'
      ? {
          subjects: [
            HOSTILE,
            'CN=hooks.platform.test,O=Acme\\, Inc.',
            'cn=HOOKS.platform.test, o=ACME\\, Inc.',
            'CN=a+OU=b',
          ],
        }
      : {}),
    ...(mode === 'check' && kind === 'caddy' ? { fingerprints: ['ab'.repeat(32)] } : {}),
  };
}

describe('the real servers accept the generated configurations', { skip: needTools('openssl') }, () => {
  selfSigned();
  for (const mode of ['headers', 'check', 'ipv6', 'https'] as const) {
    test(`nginx -t (${mode})`, { skip: needTools('nginx') }, () => {
      const conf = join(dir.path, `nginx-${mode}.conf`);
      writeFileSync(
        conf,
        `pid ${dir.path}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n${generateProxyConfig('nginx', options('nginx', mode))}}\n`,
      );
      const r = spawnSync(which('nginx')!, ['-t', '-p', dir.path, '-c', conf, '-e', 'stderr'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    });
    test(`haproxy -c (${mode})`, { skip: needTools('haproxy') }, () => {
      const conf = join(dir.path, `haproxy-${mode}.cfg`);
      writeFileSync(conf, generateProxyConfig('haproxy', options('haproxy', mode)));
      const r = spawnSync(which('haproxy')!, ['-c', '-f', conf], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr + r.stdout);
    });
    test(`caddy validate (${mode})`, { skip: needTools('caddy') }, () => {
      const conf = join(dir.path, `Caddyfile-${mode}`);
      writeFileSync(conf, generateProxyConfig('caddy', options('caddy', mode)));
      const home = join(dir.path, 'home');
      const r = spawnSync(which('caddy')!, ['validate', '--config', conf, '--adapter', 'caddyfile'], {
        encoding: 'utf8',
        env: { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
      });
      assert.equal(r.status, 0, r.stderr);
    });
  }
});
