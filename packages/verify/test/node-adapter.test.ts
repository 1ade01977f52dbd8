import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { listen, tempDir } from '@hookwarden/testkit';
import { httpsServerOptions, type VerifiedHandler, verifiedHandler } from '../src/node.ts';
import { generateSecret, sign } from '../src/signature.ts';
import { createVerifier } from '../src/verifier.ts';
import { makeTestPki, type TestPki } from './helpers/certs.ts';
import { rawRequest } from './helpers/raw-http.ts';

let pki: TestPki;
const dir = tempDir();
const servers: Server[] = [];
before(() => {
  pki = makeTestPki(dir.path);
});
after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  dir.cleanup();
});

const hex = (fp: string) => fp.replace(/:/g, '').toLowerCase();

interface Reply {
  status: number;
  json: Record<string, unknown>;
}

function echoFacts() {
  return verifiedHandler(
    createVerifier({
      clientCertificate: { source: 'socket', caBundlePem: pki.caBundlePem, subject: pki.clientSubject },
    }),
    (_req, res, { facts, body }) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...facts, bodyLength: body.length }));
    },
  );
}

async function startHttps(rejectUnauthorized: boolean): Promise<number> {
  const server = createHttpsServer(
    httpsServerOptions({
      certPem: pki.server.certPem,
      keyPem: pki.server.keyPem,
      clientCaPem: pki.caBundlePem,
      rejectUnauthorized,
    }),
    echoFacts(),
  );
  servers.push(server);
  return listen(server);
}

function call(
  port: number,
  client?: { certPem: string; keyPem: string; ciphers?: string },
  body = '{"x":1}',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/hook',
        servername: 'localhost',
        ca: pki.root.certPem,
        agent: false,
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
        ...(client?.ciphers ? { ciphers: client.ciphers } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

describe('node:https with client certificates on a real TLS handshake', () => {
  test('verify answers precisely when the handshake lets everyone in', async () => {
    const port = await startHttps(false);
    const ok = await call(port, { certPem: pki.clientChainPem, keyPem: pki.client.keyPem });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.checks, ['client-certificate']);
    assert.equal((ok.json.identity as { subject: string }).subject, pki.clientSubject);
    assert.equal(ok.json.clientIp, '127.0.0.1');
    assert.equal(ok.json.bodyLength, 7);

    const none = await call(port);
    assert.equal(none.status, 401);
    assert.equal(none.json.code, 'HW_CERT_MISSING');

    const impostor = await call(port, { certPem: pki.impostor.certPem, keyPem: pki.impostor.keyPem });
    assert.equal(impostor.status, 403);
    assert.equal(impostor.json.code, 'HW_CERT_UNTRUSTED');
    assert.equal(typeof impostor.json.detail, 'string');
  });

  test("the TLS stack's verdict counts as well as the verifier's own chain check", async () => {
    const port = await startHttps(false);
    // Issued by the platform's CA with the platform's subject, but signed with SHA-1: the chain
    // builds, OpenSSL's verification (security level 1) refuses the signature. A client that lowers
    // its own security level can still present it.
    const weak = await call(port, { ...pki.sha1Signed, ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.equal(weak.status, 403, JSON.stringify(weak.json));
    assert.equal(weak.json.code, 'HW_CERT_UNTRUSTED');
    assert.match(String(weak.json.detail), /the TLS stack did not verify it/);
    const ok = await call(port, {
      certPem: pki.clientChainPem,
      keyPem: pki.client.keyPem,
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  });

  test('with rejectUnauthorized the handshake itself refuses a missing certificate', async () => {
    const port = await startHttps(true);
    const ok = await call(port, { certPem: pki.clientChainPem, keyPem: pki.client.keyPem });
    assert.equal(ok.status, 200);
    await assert.rejects(call(port), (err: NodeJS.ErrnoException) => {
      // TLS 1.3: the alert arrives after the client's handshake completed
      assert.match(String(err.code ?? err.message), /CERTIFICATE_REQUIRED|ECONNRESET|HANDSHAKE/i);
      return true;
    });
  });

  test('httpsServerOptions validates its input', () => {
    assert.throws(() => httpsServerOptions({ certPem: 'x', keyPem: 'y', clientCaPem: 'z' }), /certPem/);
    assert.throws(
      () => httpsServerOptions({ certPem: pki.server.certPem, keyPem: pki.server.keyPem, clientCaPem: 'z' }),
      /clientCaPem/,
    );
  });
});

describe('node:http with signatures', () => {
  test('raw bytes are verified; oversize bodies get 413; refusals are {code, detail}', async () => {
    const secret = generateSecret();
    const refusals: unknown[] = [];
    const server = createHttpServer(
      verifiedHandler(
        createVerifier({ signature: { secrets: [secret] } }),
        (_req, res, { facts }) => {
          res.end(JSON.stringify(facts));
        },
        { maxBodyBytes: 4096, onRefused: (err) => refusals.push(err) },
      ),
    );
    servers.push(server);
    const port = await listen(server);
    const post = (headers: Record<string, string>, body: Buffer) =>
      new Promise<Reply>((resolve, reject) => {
        const r = httpRequest({ host: '127.0.0.1', port, method: 'POST', headers, agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        });
        r.on('error', reject);
        r.end(body);
      });
    // not valid UTF-8: the signature is over bytes, not a decoded string
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'msg_n',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign({ msgId: 'msg_n', timestamp: ts, body, secrets: [secret] }),
    };
    const ok = await post(headers, body);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.webhookId, 'msg_n');
    const bad = await post(headers, Buffer.from('{}'));
    assert.deepEqual([bad.status, bad.json.code], [401, 'HW_SIGNATURE_INVALID']);
    const big = await post(headers, Buffer.alloc(5000, 0x20));
    assert.deepEqual([big.status, big.json.code], [413, 'HW_BODY_TOO_LARGE']);
    assert.equal(refusals.length, 2);
  });
});

describe('node:http guarding its own path', () => {
  test('only the path is verified: a health check on the same server answers, other paths 404 by default', async () => {
    const secret = generateSecret();
    const verifier = createVerifier<{ amount: number }>({ signature: { secrets: [secret] } });
    const onEvent: VerifiedHandler<{ amount: number }> = (_req, res, { facts }) => {
      res.end(JSON.stringify({ amount: facts.payload.amount }));
    };
    const guarded = createHttpServer(
      verifiedHandler(verifier, onEvent, {
        path: '/webhooks',
        otherwise: (req, res) => void res.writeHead(req.url === '/health' ? 200 : 404).end(req.url),
      }),
    );
    const bare = createHttpServer(verifiedHandler(verifier, onEvent, { path: '/webhooks' }));
    servers.push(guarded, bare);
    const [port, barePort] = [await listen(guarded), await listen(bare)];
    const body = '{"amount":4200}';
    const signed = () => {
      const ts = Math.floor(Date.now() / 1000);
      const id = `msg_${randomUUID()}`;
      return {
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': sign({ msgId: id, timestamp: ts, body, secrets: [secret] }),
      };
    };
    const at = (p: number, path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${p}${path}`, init);
    const health = await at(port, '/health');
    assert.deepEqual([health.status, await health.text()], [200, '/health']);
    const ok = await at(port, '/webhooks?x=1', { method: 'POST', headers: signed(), body });
    assert.deepEqual([ok.status, await ok.json()], [200, { amount: 4200 }]);
    // every spelling of the path is verified, never passed on unverified (raw: fetch would normalise)
    for (const spelled of ['/webhooks', '/web%68ooks', '/x/../webhooks', `http://127.0.0.1:${port}/webhooks`]) {
      const res = await rawRequest(port, [], body, spelled);
      assert.deepEqual(
        [res.status, (JSON.parse(res.body) as { code: string }).code],
        [401, 'HW_SIGNATURE_MISSING'],
        spelled,
      );
    }
    assert.equal((await rawRequest(port, [], body, '/webhooks/')).status, 404);
    const other = await at(barePort, '/health');
    assert.deepEqual([other.status, ((await other.json()) as { code: string }).code], [404, 'HW_NOT_FOUND']);
    assert.throws(
      () => verifiedHandler(verifier, onEvent, { path: 'webhooks' }),
      (err: unknown) => (err as { code?: string }).code === 'HW_POLICY_INVALID',
    );
  });
});

describe('node:http with a signature header sent twice', () => {
  test('two webhook-signature lines, the valid one first: the valid one is tried', async () => {
    const secret = generateSecret();
    const server = createHttpServer(
      verifiedHandler(createVerifier({ signature: { secrets: [secret] } }), (_req, res) => {
        res.end('{}');
      }),
    );
    servers.push(server);
    const port = await listen(server);
    const ts = Math.floor(Date.now() / 1000);
    const good = sign({ msgId: 'm1', timestamp: ts, body: '', secrets: [secret] });
    const stale = sign({ msgId: 'm1', timestamp: ts, body: '', secrets: [generateSecret()] });
    const head = ['webhook-id: m1', `webhook-timestamp: ${ts}`];
    for (const lines of [
      [`webhook-signature: ${good}`, `webhook-signature: ${stale}`],
      [`webhook-signature: ${stale}`, `webhook-signature: ${good}`],
    ]) {
      const reply = await rawRequest(port, [...head, ...lines]);
      assert.equal(reply.status, 200, reply.body);
    }
  });
});

describe('node:http behind a TLS-terminating proxy', () => {
  test('two X-SSL-Client-Cert lines from the trusted proxy are refused, not joined into a chain', async () => {
    // No CA bundle: the proxy's SUCCESS vouches, so a client's certificate read as the leaf would pass.
    const server = createHttpServer(
      verifiedHandler(
        createVerifier({
          trustedProxies: ['127.0.0.1'],
          clientCertificate: { source: 'nginx', subject: pki.clientSubject },
        }),
        (_req, res, { facts }) => {
          res.end(JSON.stringify(facts));
        },
      ),
    );
    servers.push(server);
    const port = await listen(server);
    const cert = (pem: string) => `X-SSL-Client-Cert: ${encodeURIComponent(pem)}`;
    // the impostor has the platform's subject under another CA: what a client would forge
    const joined = await rawRequest(port, [
      cert(pki.impostor.certPem), // the inbound copy the proxy failed to clear
      'X-SSL-Client-Verify: SUCCESS',
      cert(pki.client.certPem), // what the proxy appended
    ]);
    assert.equal(joined.status, 400, joined.body);
    assert.equal(JSON.parse(joined.body).code, 'HW_PROXY_HEADER_INVALID');
    // any repeated proxy header reaches the parsers as two values, whatever its format
    const subjects = await rawRequest(port, [
      `X-SSL-Client-Subject-DN: ${pki.clientSubject}`,
      'X-SSL-Client-Verify: SUCCESS',
      `X-SSL-Client-Subject-DN: ${pki.clientSubject}`,
    ]);
    assert.equal(subjects.status, 400, subjects.body);
    assert.equal(JSON.parse(subjects.body).code, 'HW_PROXY_HEADER_INVALID');
    const one = await rawRequest(port, ['X-SSL-Client-Verify: SUCCESS', cert(pki.client.certPem)]);
    assert.equal(one.status, 200, one.body);
    const facts = JSON.parse(one.body) as { identity: { fingerprintSha256: string } };
    assert.equal(facts.identity.fingerprintSha256, hex(new X509Certificate(pki.client.certPem).fingerprint256));
  });
});
