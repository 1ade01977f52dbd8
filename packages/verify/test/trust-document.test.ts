import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { listen, tempDir } from '@hookwarden/testkit';
import { HookwardenError } from '../src/errors.ts';
import { generateEd25519Key, sign } from '../src/signature.ts';
import { createVerifier, type VerifyRequest } from '../src/verifier.ts';
import { makeTestPki, type TestPki } from './helpers/certs.ts';

let pki: TestPki;
let NOW: number;
const dir = tempDir();
const key = generateEd25519Key();

/** A real loopback server standing in for the platform's GET /api/v1/trust. */
let document: unknown;
let status = 200;
let etag = '"v1"';
const seen: { ifNoneMatch: string | undefined }[] = [];
const server = createServer((req: IncomingMessage, res) => {
  seen.push({ ifNoneMatch: req.headers['if-none-match'] });
  if (status !== 200) {
    res.writeHead(status).end();
    return;
  }
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify(document));
});
let url: string;

function fingerprints(pem: string) {
  const c = new X509Certificate(pem);
  return { sha256: c.fingerprint256, sha1: c.fingerprint, sha256Hex: c.fingerprint256.replace(/:/g, '').toLowerCase() };
}

before(async () => {
  pki = makeTestPki(dir.path);
  NOW = Date.parse(new X509Certificate(pki.client.certPem).validFrom) + 3_600_000;
  url = `http://127.0.0.1:${await listen(server)}/api/v1/trust`;
  document = {
    version: 1,
    caBundlePem: pki.caBundlePem,
    certificates: { current: { subject: pki.clientSubject, fingerprints: fingerprints(pki.client.certPem) } },
    egressCidrs: ['127.0.0.0/8'],
    signingPublicKeys: [key.publicKey],
    cipherPolicy: {},
  };
});
after(async () => {
  await new Promise((r) => server.close(r));
  dir.cleanup();
});

function request(certPem: string, signed = true): VerifyRequest {
  const ts = Math.floor(NOW / 1000);
  const body = new TextEncoder().encode('{"event":1}');
  const headers = signed
    ? { 'webhook-id': `msg_${Math.random().toString(36).slice(2)}`, 'webhook-timestamp': String(ts) }
    : {};
  return {
    method: 'POST',
    url: '/',
    headers: signed
      ? {
          ...headers,
          'webhook-signature': sign({ msgId: headers['webhook-id']!, timestamp: ts, body, secrets: [key.secret] }),
        }
      : {},
    body,
    remoteAddress: '127.0.0.1',
    tls: { encrypted: true, authorized: false, peerCertificates: [certPem] },
  };
}

async function refused(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HookwardenError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('trust document', () => {
  test('feeds the CA bundle, pins, egress CIDRs and signing keys; follows rotation; never fails open', async () => {
    let clock = NOW;
    const v = createVerifier({
      clientCertificate: { source: 'socket' },
      ipAllowlist: [],
      signature: {},
      trustDocument: { url, refreshSeconds: 60 },
      now: () => clock,
    });
    // the platform is down before the first copy: nothing passes
    status = 503;
    await refused(v.verify(request(pki.client.certPem)), 'HW_TRUST_DOCUMENT_UNAVAILABLE');
    assert.match(v.trustDocument!.lastError!, /503/);
    status = 200;
    const facts = await v.verify(request(pki.client.certPem));
    assert.deepEqual(facts.checks, ['ip-allowlist', 'client-certificate', 'signature']);
    // the deep certificate chains to the same CA but is not pinned by the document
    await refused(
      v.verify({
        ...request(pki.deep.certPem),
        tls: { encrypted: true, authorized: false, peerCertificates: [pki.deep.certPem, pki.deepIntermediate.certPem] },
      }),
      'HW_PIN_MISMATCH',
    );
    await refused(v.verify(request(pki.impostor.certPem)), 'HW_CERT_UNTRUSTED');
    await refused(v.verify({ ...request(pki.client.certPem), remoteAddress: '192.0.2.1' }), 'HW_IP_DENIED');
    await refused(v.verify({ ...request(pki.client.certPem), headers: {} }), 'HW_SIGNATURE_MISSING');

    // rotation announced: the next certificate is published and accepted before it is current
    const fetchesBefore = seen.length;
    document = {
      ...(document as object),
      version: 2,
      certificates: {
        current: { fingerprints: fingerprints(pki.client.certPem) },
        next: { fingerprints: fingerprints(pki.deep.certPem) },
      },
    };
    etag = '"v2"';
    clock += 61_000;
    await v.verify(request(pki.client.certPem)); // served from the old copy, refresh starts
    assert.equal(await v.trustDocument!.refresh(), true);
    assert.equal(seen.at(fetchesBefore)?.ifNoneMatch, '"v1"');
    const deepReq = request(pki.deep.certPem);
    deepReq.tls = {
      encrypted: true,
      authorized: false,
      peerCertificates: [pki.deep.certPem, pki.deepIntermediate.certPem],
    };
    assert.ok(await v.verify(deepReq));

    // unchanged: 304, and the copy stays
    assert.equal(await v.trustDocument!.refresh(), true);
    assert.equal(seen.at(-1)?.ifNoneMatch, '"v2"');
    assert.ok(await v.verify(request(pki.client.certPem)));

    // refresh failures (server error, then a broken document) keep the last good copy
    status = 500;
    assert.equal(await v.trustDocument!.refresh(), false);
    assert.ok(await v.verify(request(pki.client.certPem)));
    status = 200;
    document = { version: 3, caBundlePem: 'not pem', certificates: {}, egressCidrs: ['x'], signingPublicKeys: [] };
    etag = '"v3"';
    assert.equal(await v.trustDocument!.refresh(), false);
    assert.match(v.trustDocument!.lastError!, /caBundlePem/);
    assert.ok(await v.verify(request(pki.client.certPem)));
  });

  test('errors show the URL without its query string or credentials', async () => {
    const detailOf = async (trustUrl: string, fetchImpl?: typeof fetch) => {
      const v = createVerifier({
        signature: {},
        trustDocument: { url: trustUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) },
        now: () => NOW,
      });
      let detail = '';
      await assert.rejects(v.verify(request(pki.client.certPem)), (err: unknown) => {
        assert.ok(err instanceof HookwardenError && err.code === 'HW_TRUST_DOCUMENT_UNAVAILABLE', String(err));
        detail = err.message;
        return true;
      });
      assert.equal(v.trustDocument!.lastError, detail);
      assert.doesNotMatch(detail, /s3cret|tok3n|alice/, detail);
      return detail;
    };
    const withQuery = `${url}?token=tok3n#frag`;
    status = 500;
    try {
      assert.match(await detailOf(withQuery), /\/api\/v1\/trust\?\[redacted\]: answered 500$/);
    } finally {
      status = 200;
    }
    // fetch refuses credentials in the URL, quoting the URL in its message
    const withCredentials = url.replace('http://', 'http://alice:s3cret@');
    assert.match(await detailOf(`${withCredentials}?token=tok3n`), /^trust document http:\/\/127\.0\.0\.1:\d+\/api/);
    // a fetch of one's own that names the URL in its error
    const leaky = (async (input: string | URL | Request) => {
      throw new Error(`cannot reach ${String(input)} (retry later)`);
    }) as typeof fetch;
    const detail = await detailOf(withQuery, leaky);
    assert.match(detail, /cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/v1\/trust\?\[redacted\] \(retry later\)$/);
  });
});
