import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { parseCertificate, parsePemBundle } from '../src/certificate.ts';
import { ChainCache } from '../src/chain-cache.ts';
import { HookwardenError } from '../src/errors.ts';
import { escapedPemCertificates } from '../src/proxy-headers/facts.ts';
import { createVerifier, type VerifyRequest } from '../src/verifier.ts';
import { makeTestPki, type TestPki } from './helpers/certs.ts';

let pki: TestPki;
let leaf: X509Certificate;
let intermediate: X509Certificate;
let platformCa: X509Certificate[];
let otherCa: X509Certificate[];
let inside: number;
let notAfter: number;
const dir = tempDir();
before(() => {
  pki = makeTestPki(dir.path);
  leaf = new X509Certificate(pki.client.certPem);
  intermediate = new X509Certificate(pki.intermediate.certPem);
  platformCa = parsePemBundle(pki.caBundlePem, 'platform');
  otherCa = parsePemBundle(pki.otherRoot.certPem, 'other');
  inside = Date.parse(leaf.validFrom) + 3_600_000;
  notAfter = Date.parse(leaf.validTo);
});
after(() => dir.cleanup());

function fails(fn: () => unknown, code: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HookwardenError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('chain cache', () => {
  test('a repeated check is a hit with the same path', () => {
    const cache = new ChainCache();
    const first = cache.verify(leaf, [intermediate], platformCa, 1, inside);
    const second = cache.verify(leaf, [intermediate], platformCa, 1, inside + 1000);
    assert.deepEqual(
      second.map((c) => c.subject),
      first.map((c) => c.subject),
    );
    assert.equal(first.length, 3);
    assert.deepEqual([cache.misses, cache.hits], [1, 1]);
  });

  test('validity is checked on every hit against the clock; an expired entry is dropped', () => {
    const cache = new ChainCache();
    cache.verify(leaf, [intermediate], platformCa, 1, inside);
    fails(() => cache.verify(leaf, [intermediate], platformCa, 1, notAfter + 1), 'HW_CERT_EXPIRED');
    assert.equal(cache.misses, 2, 'the expired entry was recomputed, not served');
    fails(() => cache.verify(leaf, [intermediate], platformCa, 1, Date.parse(leaf.validFrom) - 1), 'HW_CERT_EXPIRED');
    assert.ok(cache.verify(leaf, [intermediate], platformCa, 1, inside));
  });

  test('another CA bundle or depth is another entry', () => {
    const cache = new ChainCache();
    cache.verify(leaf, [intermediate], platformCa, 1, inside);
    fails(() => cache.verify(leaf, [intermediate], otherCa, 1, inside), 'HW_CERT_UNTRUSTED');
    fails(() => cache.verify(leaf, [intermediate], platformCa, 0, inside), 'HW_CERT_UNTRUSTED');
    // Without the presented intermediate the leaf does not reach the root alone.
    fails(() => cache.verify(leaf, [], [platformCa[1]!], 1, inside), 'HW_CERT_UNTRUSTED');
    assert.equal(cache.misses, 4);
  });

  test('a cached failure stays a failure, with a fresh error each time', () => {
    const cache = new ChainCache();
    const impostor = new X509Certificate(pki.impostor.certPem);
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        cache.verify(impostor, [], platformCa, 2, inside);
        assert.fail('an untrusted certificate passed');
      } catch (err) {
        assert.ok(err instanceof HookwardenError);
        assert.equal(err.code, 'HW_CERT_UNTRUSTED');
        errors.push(err);
      }
    }
    assert.deepEqual([cache.misses, cache.hits], [1, 2]);
    assert.notEqual(errors[1], errors[2]);
  });

  test('bounded: the least recently used entry goes first', () => {
    const cache = new ChainCache(2);
    const deep = new X509Certificate(pki.deep.certPem);
    cache.verify(leaf, [intermediate], platformCa, 1, inside);
    fails(() => cache.verify(deep, [], platformCa, 2, inside), 'HW_CERT_UNTRUSTED');
    cache.verify(leaf, [intermediate], platformCa, 1, inside);
    fails(() => cache.verify(leaf, [intermediate], otherCa, 1, inside), 'HW_CERT_UNTRUSTED');
    assert.equal(cache.size, 2);
    cache.verify(leaf, [intermediate], platformCa, 1, inside);
    assert.deepEqual([cache.misses, cache.hits], [3, 2]);
    assert.throws(() => new ChainCache(0), /chainCacheSize/);
  });
});

describe('parsed certificates', () => {
  test('the same input gives the same instance; garbage is refused every time', () => {
    assert.equal(parseCertificate(pki.client.certPem), parseCertificate(pki.client.certPem));
    for (let i = 0; i < 2; i++) fails(() => parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n'), 'HW_CERT_INVALID');
  });

  test('an escaped PEM header: the same certificates each time, each call its own array; bad input refused each time', () => {
    const header = encodeURIComponent(pki.client.certPem + pki.intermediate.certPem);
    const first = escapedPemCertificates(header, 'x-ssl-client-cert');
    const second = escapedPemCertificates(header, 'x-ssl-client-cert');
    assert.notEqual(first, second);
    assert.deepEqual(
      second.map((c) => c.fingerprint256),
      [leaf.fingerprint256, intermediate.fingerprint256],
    );
    first.pop();
    assert.equal(escapedPemCertificates(header, 'x-ssl-client-cert').length, 2);
    for (let i = 0; i < 2; i++)
      fails(() => escapedPemCertificates('%E0%A4%A', 'x-ssl-client-cert'), 'HW_PROXY_HEADER_INVALID');
  });
});

describe('verifier with the chain cache', () => {
  const tls = (pems: string[]): NonNullable<VerifyRequest['tls']> => ({
    encrypted: true,
    authorized: true,
    peerCertificates: pems,
  });
  const request = (pems: string[]): VerifyRequest => ({
    method: 'POST',
    url: '/hook',
    headers: {},
    body: new Uint8Array(),
    remoteAddress: '203.0.113.9',
    tls: tls(pems),
  });

  test('a certificate accepted earlier is refused once the injected clock passes its notAfter', async () => {
    let now = inside;
    const v = createVerifier({
      clientCertificate: { source: 'socket', caBundlePem: pki.caBundlePem },
      now: () => now,
    });
    const chain = [pki.client.certPem, pki.intermediate.certPem];
    assert.ok(await v.verify(request(chain)));
    assert.ok(await v.verify(request(chain)));
    now = notAfter + 1;
    await assert.rejects(v.verify(request(chain)), { code: 'HW_CERT_EXPIRED' });
  });

  test('an impostor stays refused however often it comes; the platform still passes', async () => {
    const v = createVerifier({
      clientCertificate: { source: 'socket', caBundlePem: pki.caBundlePem },
      now: () => inside,
    });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(v.verify(request([pki.impostor.certPem])), { code: 'HW_CERT_UNTRUSTED' });
    }
    assert.ok(await v.verify(request([pki.client.certPem, pki.intermediate.certPem])));
  });

  test('proxy headers: the same escaped certificate is checked against the verifier own bundle', async () => {
    const headers = {
      'x-ssl-client-verify': 'SUCCESS',
      'x-ssl-client-subject-dn': pki.clientSubject,
      'x-ssl-client-cert': encodeURIComponent(pki.client.certPem + pki.intermediate.certPem),
    };
    const through = (v: ReturnType<typeof createVerifier>) =>
      v.verify({ method: 'POST', url: '/', headers, body: new Uint8Array(), remoteAddress: '127.0.0.1' });
    const policy = (caBundlePem: string) =>
      createVerifier({
        trustedProxies: ['127.0.0.1/32'],
        clientCertificate: { source: 'nginx', caBundlePem },
        now: () => inside,
      });
    const platform = policy(pki.caBundlePem);
    const other = policy(pki.otherRoot.certPem);
    for (let i = 0; i < 2; i++) {
      assert.ok(await through(platform));
      await assert.rejects(through(other), { code: 'HW_CERT_UNTRUSTED' });
    }
  });
});
