import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { HookwardenError } from '../src/errors.ts';
import type { ClientCertificatePolicy } from '../src/policy.ts';
import { parseXfcc } from '../src/proxy-headers/index.ts';
import { createVerifier, type VerifyRequest } from '../src/verifier.ts';
import { makeTestPki, opensslIssuer, type Pair, type TestPki } from './helpers/certs.ts';

let pki: TestPki;
let NOW: number;
const dir = tempDir();
before(() => {
  pki = makeTestPki(dir.path);
  NOW = Date.parse(new X509Certificate(pki.client.certPem).validFrom) + 3_600_000;
});
after(() => dir.cleanup());

const SUBJECT_2253 = 'CN=hooks.platform.example,OU=Webhooks,O=Acme\\, Inc.,C=US';
const der = (p: Pair) => new X509Certificate(p.certPem).raw;
const hex = (fp: string) => fp.replace(/:/g, '').toLowerCase();

/** What each proxy kind sends for a certificate, as its documentation and our generated configs say. */
const KINDS: Record<string, (p: Pair) => Record<string, string>> = {
  envoy: (p) => ({
    'x-forwarded-client-cert': `By=spiffe://example.org/ns/edge;Hash=${hex(new X509Certificate(p.certPem).fingerprint256)};Cert="${encodeURIComponent(p.certPem)}";Subject="${SUBJECT_2253}";URI=;DNS=hooks.platform.example`,
  }),
  haproxy: (p) => ({
    'x-ssl-client-used': '1',
    'x-ssl-client-verify': '0',
    'x-ssl-client-subject-dn': `"${SUBJECT_2253}"`,
    'x-ssl-client-sha1': hex(new X509Certificate(p.certPem).fingerprint).toUpperCase(),
    'x-ssl-client-der': der(p).toString('base64'),
  }),
  caddy: (p) => ({
    'x-ssl-client-subject-dn': SUBJECT_2253,
    'x-ssl-client-fingerprint-sha256': hex(new X509Certificate(p.certPem).fingerprint256),
    'x-ssl-client-der': der(p).toString('base64'),
  }),
  traefik: (p) => ({
    'x-forwarded-tls-client-cert': encodeURIComponent(der(p).toString('base64')),
    'x-forwarded-tls-client-cert-info': encodeURIComponent('Subject="CN=hooks.platform.example"'),
  }),
  'aws-alb': (p) => ({
    'x-amzn-mtls-clientcert-leaf': encodeURIComponent(p.certPem)
      .replace(/%2B/g, '+')
      .replace(/%3D/g, '=')
      .replace(/%2F/g, '/'),
    'x-amzn-mtls-clientcert-subject': SUBJECT_2253,
  }),
  rfc9440: (p) => ({
    'client-cert': `:${der(p).toString('base64')}:`,
    'client-cert-chain': `:${der(pki.intermediate).toString('base64')}:`,
  }),
  custom: (p) => ({ 'x-client-cert-der': der(p).toString('base64'), 'x-client-ok': 'yes' }),
};

function policyFor(kind: string, over: Partial<ClientCertificatePolicy> = {}) {
  return createVerifier({
    clientCertificate: {
      source: kind as ClientCertificatePolicy['source'],
      caBundlePem: pki.caBundlePem,
      subject: pki.clientSubject,
      dnsNames: ['hooks.platform.example'],
      ...(kind === 'custom'
        ? { customHeaders: { certDer: 'X-Client-Cert-DER', verify: 'x-client-ok', verifySuccess: 'yes' } }
        : {}),
      ...over,
    },
    trustedProxies: ['127.0.0.1', '::1'],
    https: true,
    now: () => NOW,
  });
}

function from(remoteAddress: string, headers: Record<string, string | string[]>): VerifyRequest {
  return {
    method: 'POST',
    url: '/',
    headers: { 'x-forwarded-proto': 'https', ...headers },
    body: new Uint8Array(),
    remoteAddress,
  };
}

async function refused(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HookwardenError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('every proxy kind', () => {
  for (const [kind, headersOf] of Object.entries(KINDS)) {
    test(`${kind}: platform certificate passes, impostor and spoofing are refused`, async () => {
      const v = policyFor(kind);
      const facts = await v.verify(from('127.0.0.1', headersOf(pki.client)));
      assert.deepEqual(facts.checks, ['https', 'client-certificate']);
      assert.equal(facts.identity?.source, kind);
      assert.equal(facts.identity?.subject, pki.clientSubject);
      assert.equal(facts.identity?.fingerprintSha256, hex(new X509Certificate(pki.client.certPem).fingerprint256));
      // the same headers sent straight to the app
      await refused(v.verify(from('192.0.2.10', headersOf(pki.client))), 'HW_PROXY_UNTRUSTED');
      // a certificate from another CA with the same subject
      await refused(v.verify(from('::1', headersOf(pki.impostor))), 'HW_CERT_UNTRUSTED');
      // nothing passed
      await refused(v.verify(from('127.0.0.1', {})), 'HW_CERT_MISSING');
    });
  }

  /** The header of each kind that carries the certificate. */
  const CERT_HEADER: Record<string, string> = {
    haproxy: 'x-ssl-client-der',
    caddy: 'x-ssl-client-der',
    traefik: 'x-forwarded-tls-client-cert',
    'aws-alb': 'x-amzn-mtls-clientcert-leaf',
    rfc9440: 'client-cert',
    custom: 'x-client-cert-der',
  };
  for (const [kind, name] of Object.entries(CERT_HEADER)) {
    test(`${kind}: a client's copy joined ahead of the proxy's (node:http, fetch) is refused`, async () => {
      const v = policyFor(kind);
      const real = KINDS[kind]!(pki.client);
      const joined = `${KINDS[kind]!(pki.impostor)[name]}, ${real[name]}`;
      await refused(v.verify(from('127.0.0.1', { ...real, [name]: joined })), 'HW_PROXY_HEADER_INVALID');
      // the same two lines kept apart (headersDistinct) are refused as a repeat
      const lines = [KINDS[kind]!(pki.impostor)[name]!, real[name]!];
      await refused(v.verify(from('127.0.0.1', { ...real, [name]: lines })), 'HW_PROXY_HEADER_INVALID');
    });
  }

  test('envoy: the number of XFCC elements is part of the policy; the first is the certificate', async () => {
    const ours = KINDS.envoy!(pki.client)['x-forwarded-client-cert']!;
    const theirs = KINDS.envoy!(pki.impostor)['x-forwarded-client-cert']!;
    // an inner Envoy (APPEND_FORWARD) describes its own peer, the edge proxy
    const inner = `By=spiffe://example.org/ns/app;Hash=${'ab'.repeat(32)};URI=spiffe://example.org/ns/edge`;
    const single = policyFor('envoy');
    for (const header of [`${theirs},${ours}`, `${ours},${inner}`, `${ours},${ours}`]) {
      await refused(single.verify(from('127.0.0.1', { 'x-forwarded-client-cert': header })), 'HW_PROXY_HEADER_INVALID');
    }
    const mesh = policyFor('envoy', { xfccElements: 2 });
    assert.ok(await mesh.verify(from('127.0.0.1', { 'x-forwarded-client-cert': `${ours},${inner}` })));
    await refused(mesh.verify(from('127.0.0.1', { 'x-forwarded-client-cert': ours })), 'HW_PROXY_HEADER_INVALID');
    await refused(
      mesh.verify(from('127.0.0.1', { 'x-forwarded-client-cert': `${theirs},${ours}` })),
      'HW_CERT_UNTRUSTED',
    );
    for (const bad of [0, 33, 1.5, '2']) {
      assert.throws(() => policyFor('envoy', { xfccElements: bad as number }), /xfccElements: must be an integer/);
    }
    assert.throws(() => policyFor('nginx', { xfccElements: 1 }), /xfccElements: is only for source "envoy"/);
  });

  test("envoy: a tenant certificate's URI SAN cannot pass for the platform's element", async () => {
    // A certificate from the trusted CA whose URI SAN carries the platform's Hash and Cert after a
    // comma, and the header exactly as Envoy's mutateXfccRequestHeader writes it: URI raw, unquoted.
    const platformHash = hex(new X509Certificate(pki.client.certPem).fingerprint256);
    const platformPem = encodeURIComponent(pki.client.certPem);
    const issue = opensslIssuer(dir.path);
    const by = { cert: join(dir.path, 'intermediate.pem'), key: join(dir.path, 'intermediate.key') };
    const ext = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth';
    const envoyWrites = (uriSan: string) => {
      const made = issue('tenant-uri', '/O=Tenant/CN=tenant', `${ext}\nsubjectAltName=@alt`, by, {
        sections: `[alt]\nURI.1 = ${uriSan}\n`,
      });
      const tenant = new X509Certificate(readFileSync(made.cert));
      assert.ok(tenant.subjectAltName?.includes('spiffe://tenant.example/ns/a'), tenant.subjectAltName);
      return [
        'By=spiffe://example.org/ns/edge',
        `Hash=${hex(tenant.fingerprint256)}`,
        `Cert="${encodeURIComponent(tenant.toString())}"`,
        'Subject="CN=tenant,O=Tenant"',
        `URI=${uriSan}`,
      ].join(';');
    };
    const policies = [
      policyFor('envoy', { subject: SUBJECT_2253 }),
      policyFor('envoy', { caBundlePem: undefined, pins: [platformHash] } as Partial<ClientCertificatePolicy>),
    ];
    for (const uriSan of [
      `spiffe://tenant.example/ns/a,Hash=${platformHash};Cert=${platformPem}`,
      `spiffe://tenant.example/ns/a,Hash=${platformHash};Cert="${platformPem}"`,
      `spiffe://tenant.example/ns/a;Hash=${platformHash}`,
      `spiffe://tenant.example/ns/a;Subject="${SUBJECT_2253}"`,
    ]) {
      const header = envoyWrites(uriSan);
      for (const v of policies) {
        await refused(v.verify(from('127.0.0.1', { 'x-forwarded-client-cert': header })), 'HW_PROXY_HEADER_INVALID');
      }
    }
  });

  test('envoy: anything Envoy would not have written is refused', async () => {
    const v = policyFor('envoy');
    const ours = KINDS.envoy!(pki.client)['x-forwarded-client-cert']!;
    for (const header of [
      `${ours};Foo=bar`, // a key Envoy does not write
      `${ours};Hash=${'0'.repeat(64)}`, // a repeated key
      ours.replace('Subject="', 'Subject=').replace('";URI', ';URI'), // Subject unquoted
      ours.replace('By=spiffe://example.org/ns/edge', 'By="spiffe://example.org/ns/edge"'), // By quoted
    ]) {
      await refused(v.verify(from('127.0.0.1', { 'x-forwarded-client-cert': header })), 'HW_PROXY_HEADER_INVALID');
    }
    // repeatable keys repeat
    assert.ok(await v.verify(from('127.0.0.1', { 'x-forwarded-client-cert': `${ours};DNS=a.example;URI=x;By=y` })));
  });

  test('envoy without the certificate: hash pin, quoted RFC 2253 subject and DNS keys', async () => {
    const sha256 = hex(new X509Certificate(pki.client.certPem).fingerprint256);
    const v = policyFor('envoy', { caBundlePem: undefined, pins: [sha256] } as Partial<ClientCertificatePolicy>);
    const xfcc = `Hash=${sha256};Subject="${SUBJECT_2253}";DNS=hooks.platform.example;DNS=other.example`;
    const facts = await v.verify(from('127.0.0.1', { 'x-forwarded-client-cert': xfcc }));
    assert.deepEqual(facts.identity?.dnsNames, ['hooks.platform.example', 'other.example']);
    await refused(
      v.verify(from('127.0.0.1', { 'x-forwarded-client-cert': `Hash=${'0'.repeat(64)};Subject="${SUBJECT_2253}"` })),
      'HW_PIN_MISMATCH',
    );
  });

  test('haproxy: a failed verify result or an unused certificate', async () => {
    const v = policyFor('haproxy');
    await refused(
      v.verify(from('127.0.0.1', { ...KINDS.haproxy!(pki.client), 'x-ssl-client-verify': '20' })),
      'HW_CERT_UNTRUSTED',
    );
    await refused(v.verify(from('127.0.0.1', { 'x-ssl-client-used': '0' })), 'HW_CERT_MISSING');
  });

  test('caddy: with neither certificate nor pin nothing vouches', async () => {
    const v = policyFor('caddy');
    const { 'x-ssl-client-der': _drop, ...withoutDer } = KINDS.caddy!(pki.client);
    await refused(v.verify(from('127.0.0.1', withoutDer)), 'HW_CERT_UNTRUSTED');
  });

  test('aws-alb passthrough: the unverified chain must pass our own check', async () => {
    const v = policyFor('aws-alb');
    const chain = (p: string) => ({ 'x-amzn-mtls-clientcert': encodeURIComponent(p) });
    assert.ok(await v.verify(from('127.0.0.1', chain(pki.clientChainPem))));
    await refused(
      v.verify(from('127.0.0.1', chain(pki.impostor.certPem + pki.otherRoot.certPem))),
      'HW_CERT_UNTRUSTED',
    );
  });

  test('custom: the verify header must carry the success value', async () => {
    const v = policyFor('custom');
    await refused(
      v.verify(from('127.0.0.1', { ...KINDS.custom!(pki.client), 'x-client-ok': 'no' })),
      'HW_CERT_UNTRUSTED',
    );
  });
});

describe('XFCC parsing', () => {
  test('quoted values, escapes, case-insensitive keys, several elements', () => {
    const parsed = parseXfcc('By=spiffe://a;hash=ab;Subject="CN=x\\, y,O=\\"q\\"";DNS=a.example,BY=b;URI=');
    assert.deepEqual(parsed, [
      [
        { key: 'by', value: 'spiffe://a', quoted: false },
        { key: 'hash', value: 'ab', quoted: false },
        // RFC 2253 escapes stay for the DN parser: `\"` is an escaped quote there too
        { key: 'subject', value: 'CN=x\\, y,O=\\"q\\"', quoted: true },
        { key: 'dns', value: 'a.example', quoted: false },
      ],
      [
        { key: 'by', value: 'b', quoted: false },
        { key: 'uri', value: '', quoted: false },
      ],
    ]);
    // an escaped backslash before the closing quote ends the value; it does not escape the quote
    assert.deepEqual(parseXfcc('Subject="CN=a\\\\";URI=x'), [
      [
        { key: 'subject', value: 'CN=a\\\\', quoted: true },
        { key: 'uri', value: 'x', quoted: false },
      ],
    ]);
    for (const bad of ['', 'novalue', 'a="open', 'a=b"c', 'a=b;;c=d', 'k y=1']) {
      assert.throws(
        () => parseXfcc(bad),
        (e: unknown) => e instanceof HookwardenError && e.code === 'HW_PROXY_HEADER_INVALID',
        bad,
      );
    }
  });
});
