/**
 * Attacks an adversarial review of the receiver tried that were already refused, kept as a
 * regression suite: forwarded-for walking, signature header forms, and certificates that are not
 * the platform's. (DN escapes, multi-valued RDNs, RDN order, OID names, `#hex` values and homoglyphs
 * are in dn.test.ts and dn.property.test.ts; SAN `, DNS:` injection and two-CN subjects in
 * verifier.test.ts; repeated and comma-joined proxy headers and headers from untrusted peers in
 * proxy-headers.test.ts and node-adapter.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHmac, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { HookwardenError } from '../src/errors.ts';
import type { VerifyPolicy } from '../src/policy.ts';
import { createSignatureChecker, generateSecret, sign } from '../src/signature.ts';
import { createVerifier, type VerifyRequest } from '../src/verifier.ts';
import { opensslIssuer, testPkiFixture } from './helpers/certs.ts';

const fx = testPkiFixture();

function req(over: Partial<VerifyRequest>): VerifyRequest {
  return { method: 'POST', url: '/hook', headers: {}, body: new Uint8Array(), remoteAddress: '127.0.0.2', ...over };
}

async function outcome(policy: VerifyPolicy, r: VerifyRequest): Promise<string> {
  try {
    const facts = await createVerifier({ now: () => fx.now, ...policy }).verify(r);
    return `ok ${facts.clientIp}`;
  } catch (err) {
    assert.ok(err instanceof HookwardenError, String(err));
    return err.code;
  }
}

describe('forwarded-for is walked from the right, through trusted proxies only', () => {
  const behindProxy = (header: 'x-forwarded-for' | 'forwarded' = 'x-forwarded-for'): VerifyPolicy => ({
    trustedProxies: ['127.0.0.2/32', '10.0.0.0/8'],
    forwardedHeader: header,
    ipAllowlist: ['203.0.113.0/24'],
  });
  const xff = (value: string, remoteAddress = '127.0.0.2') =>
    outcome(behindProxy(), req({ headers: { 'x-forwarded-for': value }, remoteAddress }));
  const fwd = (value: string) => outcome(behindProxy('forwarded'), req({ headers: { forwarded: value } }));

  test('an allowed address written on the left by the client does not count', async () => {
    assert.equal(await xff('203.0.113.9'), 'ok 203.0.113.9');
    assert.equal(await xff('203.0.113.9, 198.51.100.7'), 'HW_IP_DENIED');
    assert.equal(await xff('198.51.100.7, 203.0.113.9'), 'ok 203.0.113.9');
    // trusted hops are stepped over, untrusted ones end the walk
    assert.equal(await xff('203.0.113.9, 10.1.2.3'), 'ok 203.0.113.9');
    assert.equal(await xff('203.0.113.9, 198.51.100.7, 10.1.2.3'), 'HW_IP_DENIED');
    // from a peer that is not a trusted proxy the header is the client's own text
    assert.equal(await xff('203.0.113.9', '198.51.100.7'), 'HW_IP_DENIED');
  });

  test('IPv4-mapped IPv6 addresses are the IPv4 address they carry, for hops and for the peer', async () => {
    assert.equal(await xff('::ffff:203.0.113.9'), 'ok 203.0.113.9');
    assert.equal(await xff('[::ffff:cb00:7109]:443'), 'ok 203.0.113.9');
    assert.equal(await xff('::ffff:198.51.100.7'), 'HW_IP_DENIED');
    assert.equal(await xff('203.0.113.9', '::ffff:127.0.0.2'), 'ok 203.0.113.9');
  });

  test('obfuscated and unknown hops end the walk as an address no allowlist holds', async () => {
    assert.equal(await fwd('for=203.0.113.9'), 'ok 203.0.113.9');
    assert.equal(await fwd('for=203.0.113.9, for=_hidden'), 'HW_IP_DENIED');
    assert.equal(await fwd('for=203.0.113.9, for=unknown'), 'HW_IP_DENIED');
    assert.equal(await xff('203.0.113.9, unknown'), 'HW_IP_DENIED');
    assert.equal(await fwd('for="[2001:db8::1]:443";proto=https, for=203.0.113.9'), 'ok 203.0.113.9');
    assert.equal(await fwd('for=203.0.113.9;for=198.51.100.7'), 'HW_FORWARDED_INVALID');
  });

  test('more than 32 hops is refused, whatever they hold', async () => {
    const hops = (n: number) => Array.from({ length: n }, () => '10.0.0.1').join(', ');
    assert.equal(await xff(`203.0.113.9, ${hops(31)}`), 'ok 203.0.113.9');
    assert.equal(await xff(`203.0.113.9, ${hops(32)}`), 'HW_FORWARDED_INVALID');
    assert.equal(await fwd(Array.from({ length: 33 }, () => 'for=10.0.0.1').join(', ')), 'HW_FORWARDED_INVALID');
  });

  test('odd IPv4 spellings are refused, never read as another address', async () => {
    for (const odd of ['203.0.113.09', '0313.0.113.9', '0xcb.0.113.9', '203.29449', '3405803785', '203.0.113.9.1']) {
      assert.equal(await xff(odd), 'HW_FORWARDED_INVALID', odd);
      assert.equal(await fwd(`for=${odd}`), 'HW_FORWARDED_INVALID', odd);
    }
  });
});

describe('signature headers in odd forms', () => {
  const secret = generateSecret();
  const T = 1_800_000_000;
  const body = '{"type":"ping"}';
  const check = createSignatureChecker({ secrets: [secret], now: () => T * 1000 });
  const attempt = (headers: Record<string, string>) => {
    try {
      return check(headers, body).msgId;
    } catch (err) {
      assert.ok(err instanceof HookwardenError, String(err));
      return err.code;
    }
  };

  test('a timestamp is canonical unix seconds or the message is refused', () => {
    const signedWith = (timestamp: string) => ({
      'webhook-id': 'msg_t',
      'webhook-timestamp': timestamp,
      // the signature is over exactly the text sent, so only the format is being judged
      'webhook-signature': `v1,${signatureOver(`msg_t.${timestamp}.${body}`)}`,
    });
    assert.equal(attempt(signedWith(String(T))), 'msg_t');
    for (const odd of [
      `+${T}`,
      ` ${T}`,
      `${T} `,
      `0${T}`,
      `${T}.0`,
      '1.8e9',
      `0x${T.toString(16)}`,
      `-${T}`,
      '１８００００００００',
      `${T}\n`,
      '',
    ]) {
      assert.notEqual(attempt(signedWith(odd)), 'msg_t', JSON.stringify(odd));
    }
  });

  function signatureOver(text: string): string {
    // the same HMAC sign() makes, over a text sign() would refuse to build
    return createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update(text)
      .digest('base64');
  }

  test('url-safe base64 is not base64: a signature written with - and _ does not match', () => {
    // find an id whose signature holds a + or /, so the url-safe spelling differs
    let msgId = '';
    let signature = '';
    for (let i = 0; !/[+/]/.test(signature); i++) {
      msgId = `msg_${i}`;
      signature = sign({ msgId, timestamp: T, body, secrets: [secret] });
    }
    const headers = { 'webhook-id': msgId, 'webhook-timestamp': String(T) };
    assert.equal(attempt({ ...headers, 'webhook-signature': signature }), msgId);
    const urlSafe = signature.replace(/\+/g, '-').replace(/\//g, '_');
    assert.equal(attempt({ ...headers, 'webhook-signature': urlSafe }), 'HW_SIGNATURE_INVALID');
    assert.equal(attempt({ ...headers, 'webhook-signature': urlSafe.replace(/=+$/, '') }), 'HW_SIGNATURE_INVALID');
  });

  test('more than 16 entries is refused even when one matches; 16 are all tried', () => {
    const good = sign({ msgId: 'msg_n', timestamp: T, body, secrets: [secret] });
    const bogus = (n: number) => Array.from({ length: n }, (_, i) => `v1,${Buffer.alloc(32, i).toString('base64')}`);
    const headers = (entries: string[]) => ({
      'webhook-id': 'msg_n',
      'webhook-timestamp': String(T),
      'webhook-signature': entries.join(' '),
    });
    assert.equal(attempt(headers([...bogus(15), good])), 'msg_n');
    assert.equal(attempt(headers([...bogus(16), good])), 'HW_SIGNATURE_INVALID');
  });
});

describe('certificates that are not the platform’s', () => {
  const socket = (pems: string[]) =>
    req({ tls: { encrypted: true, authorized: true, peerCertificates: pems }, remoteAddress: '203.0.113.9' });

  test("a self-signed certificate with the platform's subject and names", async () => {
    const issue = opensslIssuer(fx.dir);
    const made = issue(
      'self-signed-platform',
      '/C=US/O=Acme, Inc./OU=Webhooks/CN=hooks.platform.example',
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:hooks.platform.example',
    );
    const policy: VerifyPolicy = {
      clientCertificate: { source: 'socket', caBundlePem: fx.pki.caBundlePem, subject: fx.pki.clientSubject },
    };
    assert.equal(await outcome(policy, socket([readFileSync(made.cert, 'utf8')])), 'HW_CERT_UNTRUSTED');
    // presenting the platform's intermediate beside it does not help
    assert.equal(
      await outcome(policy, socket([readFileSync(made.cert, 'utf8'), fx.pki.intermediate.certPem])),
      'HW_CERT_UNTRUSTED',
    );
  });

  test('expired, and without clientAuth', async () => {
    const policy: VerifyPolicy = { clientCertificate: { source: 'socket', caBundlePem: fx.pki.caBundlePem } };
    const later = { ...policy, now: () => fx.now + 40 * 86_400_000 };
    assert.equal(await outcome(later, socket([fx.pki.client.certPem])), 'HW_CERT_EXPIRED');
    assert.equal(await outcome(policy, socket([fx.pki.serverOnly.certPem])), 'HW_CERT_USAGE');
  });

  test("a proxy's fingerprint header that disagrees with its certificate header", async () => {
    const policy: VerifyPolicy = {
      trustedProxies: ['127.0.0.2/32'],
      clientCertificate: { source: 'nginx', caBundlePem: fx.pki.caBundlePem, subject: fx.pki.clientSubject },
    };
    const headers = (fingerprint: string) => ({
      'x-ssl-client-verify': 'SUCCESS',
      'x-ssl-client-subject-dn': fx.pki.clientSubject,
      'x-ssl-client-fingerprint': fingerprint,
      'x-ssl-client-cert': encodeURIComponent(fx.pki.client.certPem),
    });
    const sha1 = (pem: string) => new X509Certificate(pem).fingerprint.replace(/:/g, '').toLowerCase();
    assert.equal(await outcome(policy, req({ headers: headers(sha1(fx.pki.client.certPem)) })), 'ok 127.0.0.2');
    assert.equal(
      await outcome(policy, req({ headers: headers(sha1(fx.pki.impostor.certPem)) })),
      'HW_PROXY_HEADER_INVALID',
    );
  });
});
