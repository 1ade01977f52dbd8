import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { createHierarchy } from '@hookwarden/pki';
import { listen } from '@hookwarden/testkit';
import express from 'express';
import Fastify from 'fastify';
import { type Context, Hono } from 'hono';
import { expressVerifier } from '../src/express.ts';
import { fastifyVerifier } from '../src/fastify.ts';
import { type HonoVerifiedVariables, honoVerifier } from '../src/hono.ts';
import { generateSecret, sign } from '../src/signature.ts';
import { createVerifier, type Verified } from '../src/verifier.ts';

const secret = generateSecret();
const verifier = () => createVerifier({ ipAllowlist: ['127.0.0.1'], signature: { secrets: [secret] }, replay: true });
// Whitespace a JSON round trip would lose: the signature must be checked over these exact bytes.
const BODY = '{ "type" : "invoice.paid",\n  "amount": 4200 }';
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
});

let counter = 0;
function signedHeaders(body: string, over: Record<string, string> = {}) {
  const msgId = `msg_${++counter}`;
  const ts = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': String(ts),
    'webhook-signature': sign({ msgId, timestamp: ts, body, secrets: [secret] }),
    ...over,
  };
}

async function post(port: number, headers: Record<string, string>, body = BODY) {
  const res = await fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The same behaviour, whatever the framework. */
async function conformance(port: number) {
  const ok = await post(port, signedHeaders(BODY));
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.deepEqual(ok.json.parsed, { type: 'invoice.paid', amount: 4200 });
  assert.deepEqual(ok.json.checks, ['ip-allowlist', 'signature', 'replay']);
  assert.equal(ok.json.raw, BODY);

  const tampered = await post(port, signedHeaders(BODY), BODY.replace('4200', '4201'));
  assert.deepEqual([tampered.status, tampered.json.code], [401, 'HW_SIGNATURE_INVALID']);
  assert.equal(typeof tampered.json.detail, 'string');

  const missing = await post(port, { 'content-type': 'application/json' });
  assert.deepEqual([missing.status, missing.json.code], [401, 'HW_SIGNATURE_MISSING']);

  const headers = signedHeaders(BODY);
  assert.equal((await post(port, headers)).status, 200);
  const replayed = await post(port, headers);
  assert.deepEqual([replayed.status, replayed.json.code], [409, 'HW_REPLAYED']);
}

describe('adapters on real loopback servers', () => {
  test('express: raw body, facts in res.locals', async () => {
    const app = express();
    app.post('/hook', expressVerifier(verifier()), (req, res) => {
      const { hookwarden } = res.locals; // typed by the verifier: no cast, never undefined here
      res.json({ ...hookwarden, raw: req.body.toString('utf8'), parsed: hookwarden.payload });
    });
    // a handler written apart from the route sees the facts through the Locals augmentation (not `any`)
    const apart = (_req: express.Request, res: express.Response) => {
      const notAny: 0 extends 1 & typeof res.locals.hookwarden ? 'any' : 'typed' = 'typed';
      const facts: Verified | undefined = res.locals.hookwarden;
      res.json({ notAny, checks: facts?.checks });
    };
    app.post('/apart', expressVerifier(verifier()), apart);
    app.post('/parsed', express.json(), expressVerifier(verifier()), (_req, res) => {
      res.json({});
    });
    const server = createServer(app);
    const port = await listen(server);
    closers.push(() => new Promise((r) => server.close(r)));
    await conformance(port);
    // mounted after express.json(): a setup error, never a pass
    const res = await fetch(`http://127.0.0.1:${port}/parsed`, {
      method: 'POST',
      headers: signedHeaders(BODY),
      body: BODY,
    });
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as { code: string }).code, 'HW_BODY_ALREADY_PARSED');
  });

  test('fastify: registered at the root, only its routes are verified and raw; the others keep the app parsers', async () => {
    const app = Fastify();
    app.get('/health', async () => ({ ok: true }));
    await app.register(
      fastifyVerifier(verifier(), async (scope) => {
        scope.post('/hook', async (request) => {
          const facts = request.hookwarden!;
          return { ...facts, raw: (request.body as Buffer).toString('utf8'), parsed: facts.payload };
        });
      }),
    );
    // declared after the plugin, at the root: not verified, fastify's own JSON parser applies
    app.post('/other', async (request) => ({ parsed: request.body }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const port = (app.server.address() as AddressInfo).port;
    await conformance(port);
    const other = await fetch(`http://127.0.0.1:${port}/other`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.deepEqual(await other.json(), { parsed: { a: 1 } });
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.deepEqual([health.status, await health.json()], [200, { ok: true }]);
  });

  test('fastify: with a prefix; routes that are not a plugin are refused at creation', async () => {
    const app = Fastify();
    await app.register(
      fastifyVerifier(verifier(), (scope, verified) => {
        scope.post('/hook', async (request) => ({ checks: verified(request).checks }));
      }),
      { prefix: '/webhooks' },
    );
    const res = await app.inject({ method: 'POST', url: '/webhooks/hook', headers: signedHeaders(BODY), body: BODY });
    // inject's peer is 127.0.0.1: allowed
    assert.deepEqual([res.statusCode, res.json()], [200, { checks: ['ip-allowlist', 'signature', 'replay'] }]);
    assert.equal((await app.inject({ method: 'POST', url: '/hook', body: BODY })).statusCode, 404);
    assert.throws(
      () => fastifyVerifier(verifier(), { maxBodyBytes: 1 } as never),
      (err: unknown) => (err as { code?: string }).code === 'HW_POLICY_INVALID',
    );
  });

  test('fastify: an over-size body is answered {code, detail} like the other adapters, declared or not', async () => {
    const refusals: string[] = [];
    const app = Fastify();
    await app.register(
      fastifyVerifier(
        verifier(),
        async (scope) => {
          scope.post('/hook', async () => ({}));
        },
        { maxBodyBytes: 1024, onRefused: (err) => refusals.push((err as { code: string }).code) },
      ),
    );
    // outside the scope, fastify answers its own errors as before
    app.post('/other', async () => ({}));
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const port = (app.server.address() as AddressInfo).port;
    const declared = await post(port, signedHeaders('x'.repeat(2048)), 'x'.repeat(2048));
    assert.equal(declared.status, 413);
    assert.deepEqual(Object.keys(declared.json).sort(), ['code', 'detail']);
    assert.equal(declared.json.code, 'HW_BODY_TOO_LARGE');
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, method: 'POST', path: '/hook', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      r.on('error', reject);
      for (let i = 0; i < 4; i++) r.write(Buffer.alloc(512, 0x20));
      r.end();
    });
    assert.equal(chunked.status, 413);
    assert.equal((JSON.parse(chunked.body) as { code: string }).code, 'HW_BODY_TOO_LARGE');
    assert.deepEqual(refusals, ['HW_BODY_TOO_LARGE', 'HW_BODY_TOO_LARGE']);
    const bad = await fetch(`http://127.0.0.1:${port}/other`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'FST_ERR_CTP_INVALID_JSON_BODY');
  });

  test('fastify: a parser added to the scope after the plugin is a setup error, never an empty body', async () => {
    const app = Fastify();
    await app.register(
      fastifyVerifier(verifier(), async (scope) => {
        scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, body, done) => {
          done(null, JSON.parse(body as string));
        });
        scope.post('/hook', async (request) => ({ ...request.hookwarden, parsed: request.body }));
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const port = (app.server.address() as AddressInfo).port;
    // a signature over an empty body (a body-less delivery, captured) sent with a forged payload
    const forged = await post(port, signedHeaders(''), '{"amount":1000000}');
    assert.deepEqual([forged.status, forged.json.code], [500, 'HW_BODY_ALREADY_PARSED']);
    // a request without a body still verifies over the empty body it has
    const { 'content-type': _json, ...bodyless } = signedHeaders('');
    const res = await fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', headers: bodyless });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(((await res.json()) as { checks: string[] }).checks, ['ip-allowlist', 'signature', 'replay']);
  });

  test('hono on @hono/node-server: body still readable after verification', async () => {
    const app = new Hono<{ Variables: HonoVerifiedVariables }>();
    app.post('/hook', honoVerifier(verifier()), async (c) => {
      const facts = c.get('hookwarden');
      assert.deepEqual(await c.req.json(), facts.payload); // the body is still readable
      return c.json({ ...facts, raw: await c.req.text(), parsed: facts.payload });
    });
    app.post('/small', honoVerifier(verifier(), { maxBodyBytes: 1024 }), (c) => c.json({}));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    closers.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    await conformance(port);
    // a chunked body has no content-length: the cap applies while reading
    const status = await new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, method: 'POST', path: '/small', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      r.on('error', reject);
      for (let i = 0; i < 4; i++) r.write(Buffer.alloc(512, 0x20));
      r.end();
    });
    assert.equal(status, 413);
  });

  test('hono elsewhere: a proxy certificate header sent twice (fetch joins it with ", ") is refused', async () => {
    const subject = 'CN=hooks.platform.example,O=Platform Inc.,C=US';
    const platform = await createHierarchy({ subject });
    const impostor = await createHierarchy({ subject });
    const app = new Hono<{ Variables: HonoVerifiedVariables }>();
    const v = createVerifier({ trustedProxies: ['127.0.0.1'], clientCertificate: { source: 'nginx', subject } });
    app.post('/hook', honoVerifier(v, { connection: () => ({ remoteAddress: '127.0.0.1' }) }), (c) =>
      c.json(c.get('hookwarden')),
    );
    const send = (...certs: string[]) => {
      const headers = new Headers({ 'x-ssl-client-verify': 'SUCCESS' });
      for (const pem of certs) headers.append('x-ssl-client-cert', encodeURIComponent(pem));
      return app.request('/hook', { method: 'POST', headers, body: '' });
    };
    const joined = await send(impostor.leaf.certPem, platform.leaf.certPem);
    assert.equal(joined.status, 400);
    assert.equal(((await joined.json()) as { code: string }).code, 'HW_PROXY_HEADER_INVALID');
    const one = await send(platform.leaf.certPem);
    assert.equal(one.status, 200, await one.clone().text());
    const facts = (await one.json()) as { identity: { fingerprintSha256: string } };
    assert.equal(
      facts.identity.fingerprintSha256,
      createHash('sha256').update(new X509Certificate(platform.leaf.certPem).raw).digest('hex'),
    );
  });

  test('hono: after a middleware read the body, only its raw bytes are verified, never a re-encoding', async () => {
    const enc = (t: string) => new TextEncoder().encode(t);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc('{"a":1}')]);
    const notUtf8 = new Uint8Array([...enc('{"a":"'), 0xff, ...enc('"}')]);
    const appReading = (read: (c: Context) => Promise<unknown>) => {
      const app = new Hono<{ Variables: HonoVerifiedVariables }>();
      app.use('/hook', async (c, next) => {
        await read(c);
        await next();
      });
      app.post('/hook', honoVerifier(verifier(), { connection: () => ({ remoteAddress: '127.0.0.1' }) }), (c) =>
        c.json(c.get('hookwarden')),
      );
      return app;
    };
    const send = async (app: Hono<{ Variables: HonoVerifiedVariables }>, signed: Uint8Array, sent: Uint8Array) => {
      const headers = signedHeaders('');
      const ts = Number(headers['webhook-timestamp']);
      headers['webhook-signature'] = sign({
        msgId: headers['webhook-id'],
        timestamp: ts,
        body: signed,
        secrets: [secret],
      });
      const res = await app.request('/hook', { method: 'POST', headers, body: sent });
      return { status: res.status, code: ((await res.json()) as { code?: string }).code };
    };
    // read as text (or JSON, a form): the bytes are gone, a setup error
    const text = appReading((c) => c.req.text());
    assert.deepEqual(await send(text, enc('{"a":1}'), bom), { status: 500, code: 'HW_BODY_ALREADY_PARSED' });
    assert.deepEqual(await send(text, bom, bom), { status: 500, code: 'HW_BODY_ALREADY_PARSED' });
    // read as bytes: the cached bytes are the ones sent
    for (const read of [(c: Context) => c.req.arrayBuffer(), (c: Context) => c.req.blob()]) {
      const app = appReading(read);
      assert.equal((await send(app, bom, bom)).status, 200);
      assert.equal((await send(app, notUtf8, notUtf8)).status, 200);
      assert.deepEqual(await send(app, enc('{"a":1}'), bom), { status: 401, code: 'HW_SIGNATURE_INVALID' });
    }
  });

  test('hono elsewhere: two signature headers (fetch joins them with ", "), the valid one first', async () => {
    const app = new Hono<{ Variables: HonoVerifiedVariables }>();
    app.post('/hook', honoVerifier(verifier(), { connection: () => ({ remoteAddress: '127.0.0.1' }) }), (c) =>
      c.json(c.get('hookwarden')),
    );
    const signed = signedHeaders(BODY);
    const headers = new Headers(signed);
    const ts = Number(signed['webhook-timestamp']);
    headers.append(
      'webhook-signature',
      sign({ msgId: signed['webhook-id'], timestamp: ts, body: BODY, secrets: [generateSecret()] }),
    );
    const res = await app.request('/hook', { method: 'POST', headers, body: BODY });
    assert.equal(res.status, 200, await res.text());
  });

  test('hono elsewhere: the connection must be supplied, else a setup error', async () => {
    const app = new Hono<{ Variables: HonoVerifiedVariables }>();
    app.post('/hook', honoVerifier(verifier()), (c) => c.json({}));
    const res = await app.request('/hook', { method: 'POST', headers: signedHeaders(BODY), body: BODY });
    assert.equal(res.status, 500);
    const app2 = new Hono<{ Variables: HonoVerifiedVariables }>();
    app2.post('/hook', honoVerifier(verifier(), { connection: () => ({ remoteAddress: '127.0.0.1' }) }), (c) =>
      c.json(c.get('hookwarden')),
    );
    const ok = await app2.request('/hook', { method: 'POST', headers: signedHeaders(BODY), body: BODY });
    assert.equal(ok.status, 200);
  });
});
