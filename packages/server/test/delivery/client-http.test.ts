import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, type TestContext, test } from 'node:test';
import { listen } from '@hookwarden/testkit';
import fc from 'fast-check';
import { createDeliveryClient } from '../../src/delivery/client.ts';
import type { LookupFn } from '../../src/delivery/ssrf.ts';

// Plain-HTTP behaviour of the client on loopback (endpoints that opted into http://).
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let server: Server;
let port: number;
let handler: Handler = (_req, _body, res) => res.end('ok');
let connections = 0;
const sockets = new Set<Socket>();
const now = () => 1_700_000_000_000;

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString(), res));
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  port = await listen(server);
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const loopbackName: LookupFn = async () => [{ address: '127.0.0.1', family: 4 }];

function client(extra: Parameters<typeof createDeliveryClient>[0] extends infer O ? Partial<O> : never = {}) {
  return createDeliveryClient({ identity: () => undefined, allowPrivateTargets: true, now, ...extra });
}

test('posts the body and headers as given and reports a 2xx as ok', async () => {
  let seen: { method?: string; url?: string; headers?: Record<string, unknown>; body?: string } = {};
  handler = (req, body, res) => {
    seen = { method: req.method, url: req.url, headers: req.headers, body };
    res.end('thanks');
  };
  const c = client();
  try {
    const out = await c.deliver({
      url: `http://127.0.0.1:${port}/hook?x=1`,
      headers: { 'webhook-id': 'msg_1', 'Content-Type': 'application/json' },
      body: '{"a":"é"}',
      allowHttp: true,
    });
    assert.equal(out.ok, true);
    assert.equal(out.statusCode, 200);
    assert.equal(out.responseExcerpt, 'thanks');
    assert.equal(out.failure, undefined);
    assert.equal(out.tls, undefined);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/hook?x=1');
    assert.equal(seen.body, '{"a":"é"}');
    assert.equal(seen.headers?.['webhook-id'], 'msg_1');
    assert.equal(seen.headers?.['content-type'], 'application/json');
  } finally {
    await c.close();
  }
});

test('http:// is refused unless the request allows it', async () => {
  const before = connections;
  const c = client();
  try {
    const out = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}' });
    assert.equal(out.ok, false);
    assert.equal(out.failure?.kind, 'ssrf_blocked');
    assert.equal(connections, before);
  } finally {
    await c.close();
  }
});

test('a host name resolving to 127.0.0.1 is refused without allowPrivateTargets; the server sees no connection', async () => {
  const before = connections;
  const c = client({ allowPrivateTargets: false, lookup: loopbackName });
  try {
    for (const url of [
      `http://receiver.test:${port}/`,
      `http://127.0.0.1:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
    ]) {
      const out = await c.deliver({ url, headers: {}, body: '{}', allowHttp: true });
      assert.equal(out.failure?.kind, 'ssrf_blocked', url);
      // A name's attempt log, which the tenant reads, does not say where the platform's DNS points it.
      const why = url.includes('receiver.test') ? /receiver\.test resolves to a non-public address/ : /loopback/;
      assert.match(out.failure?.message ?? '', why);
    }
    assert.equal(connections, before);
  } finally {
    await c.close();
  }
});

test('DNS rebinding: the name is resolved once per connection and the checked address is dialled', async () => {
  let calls = 0;
  // A resolver that answers loopback first and "something else" afterwards: only the first answer counts.
  const flipping: LookupFn = async () => {
    calls++;
    return [{ address: calls === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
  };
  let remote = '';
  handler = (req, _b, res) => {
    remote = req.socket.remoteAddress ?? '';
    res.end('ok');
  };
  const c = client({ lookup: flipping });
  try {
    const out = await c.deliver({ url: `http://rebind.test:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.ok, true);
    assert.equal(calls, 1);
    assert.equal(remote, '127.0.0.1');
  } finally {
    await c.close();
  }
});

test('classifies DNS failure, refused connection, HTTP status, redirect; parses Retry-After', async () => {
  const failing: LookupFn = async (h) => {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${h}`), { code: 'ENOTFOUND' });
  };
  const c = client({ lookup: failing });
  try {
    const dns = await c.deliver({ url: 'http://nowhere.test/', headers: {}, body: '{}', allowHttp: true });
    assert.equal(dns.failure?.kind, 'dns');

    const closed = createServer();
    const closedPort = await listen(closed);
    await new Promise((r) => closed.close(r));
    const refused = await c.deliver({
      url: `http://127.0.0.1:${closedPort}/`,
      headers: {},
      body: '{}',
      allowHttp: true,
    });
    assert.equal(refused.failure?.kind, 'connect');
    assert.match(refused.failure?.message ?? '', /ECONNREFUSED/);

    handler = (_q, _b, res) => {
      res.writeHead(503, { 'retry-after': '120' }).end('busy');
    };
    const busy = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.deepEqual(
      [busy.ok, busy.statusCode, busy.failure?.kind, busy.retryAfterMs, busy.responseExcerpt],
      [false, 503, 'http_status', 120_000, 'busy'],
    );

    handler = (_q, _b, res) => {
      res.writeHead(429, { 'retry-after': new Date(now() + 30_000).toUTCString() }).end();
    };
    const limited = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(limited.retryAfterMs, 30_000);

    let redirectedTo = 0;
    handler = (req, _b, res) => {
      if (req.url === '/elsewhere') redirectedTo++;
      res.writeHead(307, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
    };
    const moved = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(moved.failure?.kind, 'redirect');
    assert.match(moved.failure?.message ?? '', /elsewhere/);
    assert.equal(redirectedTo, 0);
  } finally {
    await c.close();
  }
});

test('a long response is cut to maxResponseBytes (not a failure) and the connection is still usable', async () => {
  handler = (_q, _b, res) => res.end('x'.repeat(100_000));
  const c = client({ maxResponseBytes: 1000 });
  try {
    const out = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.ok, true);
    assert.equal(out.responseExcerpt.length, 1000);
    assert.equal(out.responseTruncated, true);
    handler = (_q, _b, res) => res.end('small');
    const next = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(next.responseExcerpt, 'small');
  } finally {
    await c.close();
  }
});

test('a receiver that accepts and never answers times out', async () => {
  handler = () => {};
  const c = client({ headersTimeoutMs: 150, totalTimeoutMs: 300 });
  try {
    const out = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.failure?.kind, 'timeout');
  } finally {
    await c.close();
    for (const s of sockets) s.destroy();
  }
});

test('a receiver that answers headers and then trickles forever hits the total timeout', async () => {
  handler = (_q, _b, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
  };
  const c = client({ totalTimeoutMs: 200 });
  try {
    const out = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.ok, false);
    assert.equal(out.failure?.kind, 'timeout');
    assert.match(out.failure?.message ?? '', /HW_DELIVERY_TIMEOUT/);
  } finally {
    await c.close();
    for (const s of sockets) s.destroy();
  }
});

test('keep-alive: consecutive deliveries reuse the connection', async () => {
  handler = (_q, _b, res) => res.end('ok');
  const c = client({ connectionsPerOrigin: 1 });
  try {
    const before = connections;
    for (let i = 0; i < 5; i++) {
      const out = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
      assert.equal(out.ok, true);
    }
    assert.equal(connections - before, 1);
  } finally {
    await c.close();
  }
});

test('options are validated once, naming the field', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ identity: 'x' }, /'identity'/],
    [{ identity: () => undefined, totalTimeoutMs: 0 }, /'totalTimeoutMs'/],
    [{ identity: () => undefined, dnsTimeoutMs: -1 }, /'dnsTimeoutMs'/],
    [{ identity: () => undefined, tlsTimeoutMs: 0.5 }, /'tlsTimeoutMs'/],
    [{ identity: () => undefined, egressAddress: 'eth0' }, /'egressAddress'/],
    [{ identity: () => undefined, connectionsPerOrigin: 1.5 }, /'connectionsPerOrigin'/],
    [
      {
        identity: () => undefined,
        cipherPolicy: {
          minVersion: 'TLSv1.3',
          maxVersion: 'TLSv1.2',
          ciphers: [],
          tls13Suites: ['TLS_AES_128_GCM_SHA256'],
        },
      },
      /'cipherPolicy.minVersion'/,
    ],
    [
      {
        identity: () => undefined,
        cipherPolicy: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: ['NOPE'], tls13Suites: [] },
      },
      /'cipherPolicy.ciphers'/,
    ],
  ];
  for (const [opts, field] of bad) {
    assert.throws(
      () => createDeliveryClient(opts as never),
      (err: { code?: string; message?: string }) =>
        err.code === 'HW_DELIVERY_OPTIONS_INVALID' && field.test(err.message ?? ''),
    );
  }
});

test('the egress address is the source the receiver sees; durations come from the injected clock', async () => {
  let remote = '';
  let t = 1_000;
  handler = (req, _b, res) => {
    remote = req.socket.remoteAddress ?? '';
    t += 250; // the receiver "takes" 250 ms on the injected clock
    res.end('ok');
  };
  const c = client({ egressAddress: '127.0.0.2', now: () => t });
  try {
    const out = await c.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.ok, true, out.failure?.message);
    assert.equal(remote, '127.0.0.2');
    assert.equal(out.durationMs, 250);
  } finally {
    await c.close();
  }
});

test('several checked addresses: one connection goes to one of them, none is looked up again', async () => {
  let calls = 0;
  const two: LookupFn = async () => {
    calls++;
    return [
      { address: '127.0.0.3', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
  };
  let remoteSeen = false;
  handler = (_req, _b, res) => {
    remoteSeen = true;
    res.end('ok');
  };
  const c = client({ lookup: two });
  try {
    const out = await c.deliver({ url: `http://multi.test:${port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.ok, true, out.failure?.message);
    assert.equal(remoteSeen, true);
    assert.equal(calls, 1);
  } finally {
    await c.close();
  }
});

/** A server on [::1] answering 'v6', or undefined (the test skipped) where there is no IPv6 loopback. */
async function v6Server(t: TestContext): Promise<{ server: Server; port: number } | undefined> {
  const server = createServer((_req, res) => res.end('v6'));
  try {
    return { server, port: await listen(server, '::1') };
  } catch {
    t.skip('no IPv6 loopback on this machine');
    return undefined;
  }
}

async function closeV6(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

test('IPv6 loopback: dialled with allowPrivateTargets, refused without, and nothing connects', async (t) => {
  const started = await v6Server(t);
  if (!started) return;
  const { server: v6, port: v6Port } = started;
  let v6Connections = 0;
  v6.on('connection', () => v6Connections++);
  const strict = client({ allowPrivateTargets: false });
  const open = client();
  try {
    for (const url of [`http://[::1]:${v6Port}/`, `http://[0:0:0:0:0:0:0:1]:${v6Port}/`]) {
      const refused = await strict.deliver({ url, headers: {}, body: '{}', allowHttp: true });
      assert.equal(refused.failure?.kind, 'ssrf_blocked', url);
    }
    assert.equal(v6Connections, 0);
    const out = await open.deliver({ url: `http://[::1]:${v6Port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.responseExcerpt, 'v6');
  } finally {
    await strict.close();
    await open.close();
    await closeV6(v6);
  }
});

test("a resolver's other spelling of the checked address is dialled (0:0:0:0:0:0:0:1 is ::1)", async (t) => {
  const started = await v6Server(t);
  if (!started) return;
  const { server: v6, port: v6Port } = started;
  const c = client({ lookup: async () => [{ address: '0:0:0:0:0:0:0:1', family: 6 }] });
  try {
    const out = await c.deliver({ url: `http://svc.test:${v6Port}/`, headers: {}, body: '{}', allowHttp: true });
    assert.equal(out.ok, true, out.failure?.message);
    assert.equal(out.responseExcerpt, 'v6');
  } finally {
    await c.close();
    await closeV6(v6);
  }
});

test('a malformed request is rejected naming the field; anything well-formed resolves to an outcome', {
  timeout: 30_000,
}, async () => {
  const c = client({ lookup: async () => [{ address: '127.0.0.1', family: 4 }] });
  try {
    const bad: [unknown, RegExp][] = [
      [null, /'request'/],
      [{ url: 1, headers: {}, body: '{}' }, /'url'/],
      [{ url: 'http://x/', headers: {}, body: { a: 1 } }, /'body'/],
      [{ url: 'http://x/', headers: { 'webhook-id': 5 }, body: '{}' }, /'headers.webhook-id'/],
      [{ url: 'http://x/', headers: { 'bad name': 'x' }, body: '{}' }, /'headers.bad name' is not a valid header name/],
      [{ url: 'http://x/', headers: { 'x-a': 'b\r\nx-injected: 1' }, body: '{}' }, /'headers.x-a'/],
      [{ url: 'http://x/', headers: { 'Transfer-Encoding': 'chunked' }, body: '{}' }, /set by the client/],
      [{ url: 'http://x/', headers: {}, body: '{}', allowHttp: 'yes' }, /'allowHttp'/],
    ];
    for (const [req, field] of bad) {
      await assert.rejects(c.deliver(req as never), (err: { code?: string; message?: string }) => {
        return err.code === 'HW_DELIVERY_REQUEST_INVALID' && field.test(err.message ?? '');
      });
    }
    handler = (_q, _b, res) => res.end('ok');
    await fc.assert(
      fc.asyncProperty(
        // Only loopback or unparsable targets: a property test must not be able to dial elsewhere.
        fc.oneof(
          fc.string({ maxLength: 40 }).filter((u) => !/^\s*h/i.test(u)),
          fc.webPath().map((p) => `http://127.0.0.1:${port}${p.startsWith('/') ? p : `/${p}`}`),
        ),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
        fc.string({ maxLength: 50 }),
        async (url, headers, body) => {
          let out: Awaited<ReturnType<typeof c.deliver>>;
          try {
            out = await c.deliver({ url, headers, body, allowHttp: true });
          } catch (err) {
            assert.equal((err as { code?: string }).code, 'HW_DELIVERY_REQUEST_INVALID');
            return;
          }
          assert.equal(typeof out.ok, 'boolean');
          if (!out.ok) assert.ok(out.failure?.kind, JSON.stringify(out));
          // Nothing here may wait for a timeout: the receiver always answers at once.
          assert.notEqual(out.failure?.kind, 'timeout');
        },
      ),
      { numRuns: 150 },
    );
  } finally {
    await c.close();
  }
});

test('close({ force }) fails the attempts still in flight at once; a graceful close waits for them', async () => {
  const held: ServerResponse[] = [];
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  handler = (_req, _body, res) => {
    held.push(res);
    arrived();
  };
  // Timeouts far beyond the test's own limit: only the forced close can settle the attempt in time.
  const c = client({ totalTimeoutMs: 600_000, headersTimeoutMs: 600_000 });
  const request = { url: `http://127.0.0.1:${port}/stuck`, headers: {}, body: '{}', allowHttp: true };
  const attempt = c.deliver(request);
  await reached;
  await c.close({ force: true });
  const out = await attempt;
  assert.equal(out.ok, false);
  assert.ok(out.failure, 'a failure kind is reported');
  // Closed: later attempts are refused without touching the network.
  const late = await c.deliver(request);
  assert.equal(late.ok, false);
  assert.match(late.failure?.message ?? '', /closed/);
  for (const res of held) res.destroy();

  const graceful = client();
  let answer!: () => void;
  handler = (_req, _body, res) => {
    answer = () => res.end('late but fine');
    arrived();
  };
  const second = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const pending = graceful.deliver({ ...request, url: `http://127.0.0.1:${port}/slow` });
  await second;
  const closing = graceful.close();
  answer();
  await closing;
  assert.equal((await pending).ok, true);
});
