import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, createServer, type IncomingHttpHeaders, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { listen, post, tempDir } from '@hookwarden/testkit';
import { createVerifier } from '@hookwarden/verify';
import { CLEARED_HEADERS } from '@hookwarden/verify/proxy-config';
import { generateSecret, sign } from '@hookwarden/verify/signature';
import fc from 'fast-check';
import { GATE_CODES } from '../src/gate/errors.ts';
import type { GateLog } from '../src/gate/log.ts';
import { createGate, type Gate, type GateOptions } from '../src/gate/server.ts';
import { verifiedHeaderValue } from '../src/gate/verified-header.ts';
import { makeMaterial } from './helpers/material.ts';
import { startRawUpstream } from './helpers/raw-upstream.ts';

// The real verifier with a signature policy: these tests are about the gate itself (forwarding,
// refusing, caps, keep-alive, logs, shutdown); mTLS and proxy modes run through the command.
const SECRET = generateSecret();
const NOW = 1_800_000_000_000;
const verifier = createVerifier({ signature: { secrets: [SECRET] }, now: () => NOW });

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
  url: string;
}

function signed(body: string, msgId = 'msg_1'): Record<string, string> {
  const timestamp = NOW / 1000;
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign({ msgId, timestamp, body, secrets: [SECRET] }),
  };
}

function call(
  port: number,
  opts: { path?: string; method?: string; headers?: Record<string, string>; body?: string | string[]; agent?: Agent },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/hooks',
        method: opts.method ?? 'POST',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    const parts = Array.isArray(opts.body) ? opts.body : [opts.body ?? ''];
    for (const part of parts) req.write(part);
    req.end();
  });
}

/** A gate on port 0 in front of the upstream at `upstreamPort`; `extra` overrides the defaults. */
async function gateTo(upstreamPort: number, extra: Partial<GateOptions> = {}): Promise<{ gate: Gate; port: number }> {
  const gate = createGate({
    verifier,
    upstream: `http://127.0.0.1:${upstreamPort}`,
    maxBodyBytes: 4096,
    log: () => {},
    ...extra,
  });
  return { gate, port: await listen(gate.server) };
}

describe('the gate in front of a real upstream', () => {
  const seen: Seen[] = [];
  const logs: Record<string, unknown>[] = [];
  const log: GateLog = (e) => logs.push(e);
  let upstreamConnections = 0;
  const upstream = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    seen.push({ headers: req.headers, body, url: req.url ?? '' });
    res.writeHead(201, { 'x-app': 'yes', 'content-type': 'text/plain' }).end(`got ${body.length}`);
  });
  upstream.on('connection', () => upstreamConnections++);
  let gate: Gate;
  let port = 0;

  before(async () => {
    const upstreamPort = await listen(upstream);
    gate = createGate({
      verifier,
      upstream: `http://127.0.0.1:${upstreamPort}/base`,
      maxBodyBytes: 4096,
      log,
    });
    port = await listen(gate.server);
  });
  after(async () => {
    await gate.close();
    upstream.close();
  });

  test('a verified request reaches the upstream with its facts; an inbound copy of the facts is dropped', async () => {
    const body = JSON.stringify({ type: 'invoice.paid' });
    const reply = await call(port, {
      path: '/hooks?x=1',
      headers: { ...signed(body), 'hookwarden-verified': '{"checks":["forged"]}', 'content-type': 'application/json' },
      body,
    });
    assert.equal(reply.status, 201);
    assert.equal(reply.headers['x-app'], 'yes');
    assert.equal(reply.body, `got ${body.length}`);
    const got = seen.at(-1)!;
    assert.equal(got.body, body);
    assert.equal(got.url, '/base/hooks?x=1');
    const facts = JSON.parse(String(got.headers['hookwarden-verified']));
    assert.deepEqual(facts.checks, ['signature']);
    assert.equal(facts.webhookId, 'msg_1');
    const entry = logs.at(-1)!;
    assert.equal(entry.decision, 'accepted');
    assert.equal(entry.status, 201);
    assert.equal(entry.path, '/hooks', 'the query string is not logged');
  });

  test('an unverified request is answered {code, detail} with its status and never forwarded', async () => {
    const before = seen.length;
    const body = '{"a":1}';
    const reply = await call(port, { headers: { ...signed('{"a":2}') }, body });
    assert.equal(reply.status, 401);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(JSON.parse(reply.body)), ['code', 'detail']);
    assert.equal(JSON.parse(reply.body).code, 'HW_SIGNATURE_INVALID');
    assert.equal(seen.length, before);
    const entry = logs.at(-1)!;
    assert.equal(entry.decision, 'refused');
    assert.equal(entry.code, 'HW_SIGNATURE_INVALID');
    assert.ok(!JSON.stringify(logs).includes(SECRET.slice(6)), 'the secret is never logged');
  });

  test('a body over the cap is refused with 413, declared or streamed', async () => {
    const big = 'x'.repeat(5000);
    const declared = await call(port, { headers: signed(big), body: big });
    assert.equal(declared.status, 413);
    assert.equal(JSON.parse(declared.body).code, 'HW_BODY_TOO_LARGE');
    const chunked = await call(port, {
      headers: { ...signed(big), 'transfer-encoding': 'chunked' },
      body: Array.from({ length: 5 }, () => 'x'.repeat(1000)),
    });
    assert.equal(chunked.status, 413);
  });

  test('a target that is not a path is refused before anything else', async () => {
    const before = seen.length;
    const reply = await call(port, { path: 'http://elsewhere.example/hooks', headers: signed('{}'), body: '{}' });
    assert.equal(reply.status, 400);
    assert.equal(JSON.parse(reply.body).code, 'HW_GATE_BAD_TARGET');
    assert.equal(seen.length, before);
  });

  test('/healthz answers without verification', async () => {
    const reply = await call(port, { path: '/healthz', method: 'GET' });
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { status: 'ok' });
  });

  test('upstream connections are kept alive across requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = upstreamConnections;
    for (let i = 0; i < 20; i++) {
      const body = `{"n":${i}}`;
      const reply = await call(port, { headers: signed(body, `msg_ka_${i}`), body, agent });
      assert.equal(reply.status, 201);
    }
    agent.destroy();
    assert.ok(
      upstreamConnections - before <= 1,
      `${upstreamConnections - before} upstream connections for 20 requests`,
    );
  });
});

test('an upstream that does not answer gives 502 HW_UPSTREAM_UNAVAILABLE', async () => {
  const dead = createServer();
  const deadPort = await listen(dead);
  await new Promise((r) => dead.close(r));
  const logs: Record<string, unknown>[] = [];
  const { gate, port } = await gateTo(deadPort, { log: (e) => logs.push(e) });
  try {
    const reply = await call(port, { headers: signed('{}'), body: '{}' });
    assert.equal(reply.status, 502);
    // The client is not authenticated: the upstream's address stays in the log.
    assert.deepEqual(JSON.parse(reply.body), {
      code: 'HW_UPSTREAM_UNAVAILABLE',
      detail: GATE_CODES.HW_UPSTREAM_UNAVAILABLE.message,
    });
    assert.ok(!reply.body.includes(String(deadPort)), reply.body);
    assert.equal(logs[0]?.decision, 'upstream_failed');
    assert.match(String(logs[0]?.detail), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${deadPort}`));
  } finally {
    await gate.close();
  }
});

test('close() lets a request in flight finish', async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let arrived!: () => void;
  const arrival = new Promise<void>((r) => {
    arrived = r;
  });
  const upstream = createServer(async (req, res) => {
    for await (const _ of req);
    arrived();
    await released;
    res.end('late');
  });
  const upstreamPort = await listen(upstream);
  const { gate, port } = await gateTo(upstreamPort);
  const pending = call(port, { headers: signed('{}'), body: '{}' });
  await arrival;
  let closed = false;
  const closing = gate.close().then(() => {
    closed = true;
  });
  assert.equal(closed, false);
  release();
  const reply = await pending;
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'late');
  await closing;
  upstream.close();
});

test('the facts header is ASCII and restores any Unicode exactly', () => {
  const facts = { identity: { subject: 'CN=Café hooks ✓,O=日本' }, checks: ['x'] };
  const value = verifiedHeaderValue(facts);
  assert.match(value, /^[\x20-\x7e]*$/);
  assert.deepEqual(JSON.parse(value), facts);
  fc.assert(
    fc.property(
      fc.record({ subject: fc.string({ unit: 'grapheme' }), dnsNames: fc.array(fc.string()) }),
      (identity) => {
        const v = verifiedHeaderValue({ identity });
        assert.match(v, /^[\x20-\x7e]*$/);
        assert.deepEqual(JSON.parse(v), { identity: { ...identity } });
      },
    ),
  );
});

test('a client that goes away takes its upstream request with it', async () => {
  let arrived!: () => void;
  const arrival = new Promise<void>((r) => {
    arrived = r;
  });
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((r) => {
    upstreamClosed = r;
  });
  const upstream = createServer((req, res) => {
    req.resume();
    res.once('close', upstreamClosed);
    arrived();
  });
  const upstreamPort = await listen(upstream);
  const { gate, port } = await gateTo(upstreamPort);
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/hooks', headers: signed('{}'), agent: false });
  req.on('error', () => {});
  req.end('{}');
  await arrival;
  req.destroy();
  await closed;
  await gate.close();
  upstream.close();
});

test('upstreamConnections bounds the connections to the upstream: concurrent requests wait for one', async () => {
  let connections = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const upstream = createServer(async (req, res) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    for await (const _ of req);
    inFlight--;
    res.end('ok');
  });
  upstream.on('connection', () => connections++);
  const upstreamPort = await listen(upstream);
  const { gate, port } = await gateTo(upstreamPort, { upstreamConnections: 1 });
  try {
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) => call(port, { headers: signed('{}', `msg_${i}`), body: '{}' })),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(connections, 1);
    assert.equal(mostInFlight, 1);
  } finally {
    await gate.close();
    upstream.close();
  }
});

describe('streaming mode (no signature): the body keeps its framing to the upstream', () => {
  // The whole body is a second request: sent without framing, the upstream would read it as one,
  // forged facts header included, on the kept-alive connection.
  const smuggled = 'GET /admin HTTP/1.1\r\nHost: x\r\nHookwarden-Verified: {"checks":["client-certificate"]}\r\n\r\n';
  const streaming = { verifier: createVerifier({ ipAllowlist: ['127.0.0.1/32'] }) };

  async function upstreamReads(opts: Parameters<typeof call>[1]) {
    const raw = await startRawUpstream();
    const { gate, port } = await gateTo(raw.port, streaming);
    try {
      const reply = await call(port, opts);
      assert.equal(reply.status, 200, reply.body);
    } finally {
      // Closing the gate closes its upstream connection: once that is closed, every byte the
      // gate sent on it has been read.
      await gate.close();
      await raw.closed();
      raw.close();
    }
    return raw.requests;
  }

  for (const method of ['GET', 'DELETE', 'OPTIONS', 'POST']) {
    test(`a chunked ${method} body goes upstream chunked, as one request`, async () => {
      const requests = await upstreamReads({
        method,
        headers: { 'transfer-encoding': 'chunked' },
        body: [smuggled.slice(0, 20), smuggled.slice(20)],
      });
      assert.deepEqual(
        requests.map((r) => r.head.split('\r\n')[0]),
        [`${method} /hooks HTTP/1.1`],
      );
      assert.equal(requests[0]!.headers['transfer-encoding'], 'chunked');
      assert.equal(requests[0]!.body.toString('latin1'), smuggled);
    });
  }

  test('a Connection header naming content-length does not remove it', async () => {
    const requests = await upstreamReads({
      method: 'GET',
      headers: { connection: 'keep-alive, content-length, host', 'content-length': String(smuggled.length) },
      body: smuggled,
    });
    assert.deepEqual(
      requests.map((r) => r.head.split('\r\n')[0]),
      ['GET /hooks HTTP/1.1'],
    );
    assert.equal(requests[0]!.headers['content-length'], String(smuggled.length));
    assert.match(requests[0]!.headers.host ?? '', /^127\.0\.0\.1:[0-9]+$/);
    assert.equal(requests[0]!.body.toString('latin1'), smuggled);
  });
});

test('headers a client could use to pose as a proxy or as the gate never reach the upstream', async () => {
  let seen: IncomingHttpHeaders = {};
  const upstream = createServer((req, res) => {
    seen = req.headers;
    req.resume();
    res.end('ok');
  });
  const { gate, port } = await gateTo(await listen(upstream), {
    verifier: createVerifier({ ipAllowlist: ['127.0.0.1/32'] }),
  });
  try {
    const forged: Record<string, string> = { 'x-app-note': 'kept' };
    for (const name of CLEARED_HEADERS) {
      forged[name] = 'forged';
      // The spellings some servers (CGI/WSGI) read as the same header.
      forged[name.replaceAll('-', '_')] = 'forged';
      forged[name.replace('-', '_')] = 'forged';
    }
    const reply = await call(port, { method: 'GET', headers: forged });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(seen['x-app-note'], 'kept');
    const cleared = new Set(CLEARED_HEADERS.map((n) => n.toLowerCase()));
    const through = Object.keys(seen).filter((n) => cleared.has(n.replaceAll('_', '-')));
    assert.deepEqual(through, ['hookwarden-verified']);
    assert.deepEqual(JSON.parse(String(seen['hookwarden-verified'])), {
      checks: ['ip-allowlist'],
      clientIp: '127.0.0.1',
    });
  } finally {
    await gate.close();
    upstream.close();
  }
});

test('TLS ending at a gate whose policy checks no client certificate refuses every request', async () => {
  const dir = tempDir();
  let reached = 0;
  const upstream = createServer((req, res) => {
    reached++;
    req.resume();
    res.end('ok');
  });
  const logs: Record<string, unknown>[] = [];
  try {
    const m = await makeMaterial(dir.path);
    const { gate, port } = await gateTo(await listen(upstream), {
      verifier: createVerifier({ https: true }),
      tls: {
        certPem: readFileSync(m.files.cert, 'utf8'),
        keyPem: readFileSync(m.files.key, 'utf8'),
        clientCaPem: readFileSync(m.files.ca, 'utf8'),
      },
      log: (e) => logs.push(e),
    });
    try {
      const reply = await post(port, { tls: { ca: m.serverCaPem }, body: '{}' });
      assert.equal(reply.status, 500, JSON.stringify(reply));
      assert.deepEqual(JSON.parse(reply.body!), {
        code: 'HW_GATE_INTERNAL',
        detail: GATE_CODES.HW_GATE_INTERNAL.message,
      });
      assert.equal(reached, 0);
      assert.equal(logs[0]?.decision, 'refused');
      assert.match(String(logs[0]?.detail), /checks no client certificate/);
    } finally {
      await gate.close();
    }
  } finally {
    upstream.close();
    dir.cleanup();
  }
});
