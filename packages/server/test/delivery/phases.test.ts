import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { type HostileEndpoint, type HostileKind, listen, startHostileEndpoint } from '@hookwarden/testkit';
import { createDeliveryClient } from '../../src/delivery/client.ts';
import type { AttemptOutcome, DeliveryClientOptions } from '../../src/delivery/types.ts';
import { makeTestPki, type TestPki } from './certs.ts';

// Each phase of an attempt has its own timeout; an attempt cut by one says which. Real sockets on
// loopback, each stuck in one phase.
let pki: TestPki;
const cleanups: (() => void | Promise<void>)[] = [];
before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Every phase long but the one under test. */
const LONG = { dnsTimeoutMs: 60_000, connectTimeoutMs: 60_000, tlsTimeoutMs: 60_000, headersTimeoutMs: 60_000 };

async function deliver(
  url: string,
  timeouts: Partial<DeliveryClientOptions>,
  extra: Partial<DeliveryClientOptions> = {},
) {
  const client = createDeliveryClient({
    identity: () => pki.client,
    allowPrivateTargets: true,
    totalTimeoutMs: 60_000,
    ...LONG,
    ...timeouts,
    ...extra,
  });
  try {
    return await client.deliver({ url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } });
  } finally {
    await client.close({ force: true });
  }
}

async function hostile(kind: HostileKind): Promise<HostileEndpoint> {
  const h = await startHostileEndpoint(kind, { certPem: pki.server.cert, keyPem: pki.server.key });
  cleanups.push(() => h.close());
  return h;
}

function assertCut(out: AttemptOutcome, phase: string, code: RegExp, name: RegExp): void {
  assert.equal(out.ok, false);
  assert.equal(out.failure?.kind, 'timeout', out.failure?.message);
  assert.equal(out.failure?.phase, phase, out.failure?.message);
  assert.match(out.failure?.message ?? '', code);
  assert.match(out.failure?.message ?? '', name);
}

test('dns: a resolver that never answers is cut by dnsTimeoutMs', async () => {
  const out = await deliver(
    'https://receiver.test/hook',
    { dnsTimeoutMs: 100 },
    { lookup: () => new Promise(() => {}) },
  );
  assertCut(out, 'dns', /HW_DELIVERY_DNS_TIMEOUT/, /in the DNS phase/);
});

/**
 * A listener whose process never accepts (its event loop blocks in a read of stdin) and whose accept
 * queue is full: the kernel drops further SYNs, so a connection attempt hangs in the TCP handshake.
 */
async function unacceptingListener(): Promise<number> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').createServer();
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         process.stdout.write(String(s.address().port) + '\\n');
         require('node:fs').readSync(0, Buffer.alloc(1));
         process.exit(0);
       });`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  // Fill the accept queue: these complete the handshake in the kernel and are never accepted.
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  cleanups.push(() => {
    for (const s of fillers) s.destroy();
  });
  await Promise.all(fillers.slice(0, 2).map((s) => once(s, 'connect')));
  return port;
}

test('connect: a TCP handshake that never completes is cut by connectTimeoutMs', async () => {
  const port = await unacceptingListener();
  const out = await deliver(`https://127.0.0.1:${port}/hook`, { connectTimeoutMs: 300 });
  assertCut(out, 'connect', /HW_DELIVERY_CONNECT_TIMEOUT/, /in the TCP connect phase/);
});

test('tls: a listener that never speaks TLS is cut by tlsTimeoutMs', async () => {
  const h = await hostile('no-tls');
  const out = await deliver(h.url, { tlsTimeoutMs: 150 });
  assertCut(out, 'tls', /HW_DELIVERY_TLS_TIMEOUT/, /in the TLS handshake phase/);
});

test('headers: a receiver that never answers, or dribbles its headers, is cut by headersTimeoutMs', async () => {
  for (const kind of ['hang', 'dribbled-headers'] as const) {
    const h = await hostile(kind);
    const out = await deliver(h.url, { headersTimeoutMs: 300 });
    assertCut(
      out,
      'headers',
      /HW_DELIVERY_HEADERS_TIMEOUT: no complete response headers within 300 ms/,
      /in the response headers phase/,
    );
  }
});

test('response: a body that never ends is cut by totalTimeoutMs, whatever the other phases allow', async () => {
  const h = await hostile('endless-body');
  const out = await deliver(h.url, { totalTimeoutMs: 400 });
  assertCut(out, 'response', /HW_DELIVERY_TIMEOUT/, /in the whole response phase/);
  // The status line arrived; the excerpt did not complete.
  assert.equal(out.statusCode, undefined);
});

test('a megabyte of response headers is refused as too large after the parser limit, not read whole', async () => {
  const h = await hostile('huge-headers');
  const out = await deliver(h.url, {});
  assert.equal(out.failure?.kind, 'response_too_large', out.failure?.message);
  assert.equal(out.failure?.phase, undefined);
});

test('a plain-http receiver cut in the headers phase says so too', async () => {
  const server = createServer((s) => s.resume());
  const port = await listen(server);
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
      }),
  );
  const client = createDeliveryClient({ identity: () => undefined, allowPrivateTargets: true, headersTimeoutMs: 150 });
  const out = await client.deliver({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}', allowHttp: true });
  await client.close({ force: true });
  assertCut(out, 'headers', /HW_DELIVERY_HEADERS_TIMEOUT/, /response headers phase/);
});
