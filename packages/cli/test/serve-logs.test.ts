/**
 * What `serve` prints: JSON lines when its output is not a terminal, readable lines on a terminal
 * (a pseudo-terminal from util-linux `script`) or with --log-format pretty; in both, one line per
 * API request and one per delivery outcome, failures with their kind and the phase a timeout hit.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, listen, needTools, startReceiver, startServe, tempDir } from '@hookwarden/testkit';
import { lineText } from '../src/log-lines.ts';
import { type Material, makeMaterial } from './helpers/material.ts';

const BIN = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const TOKEN = 'hwadm_serve-logs-test';
const dir = tempDir('hw-serve-logs-');
const { NODE_OPTIONS: _, ...plain } = process.env;
const env = { ...plain, HOOKWARDEN_ADMIN_TOKEN: TOKEN, NO_COLOR: '1' };
const ARGS = ['--allow-private-targets', '--retry-schedule', '0,600000', '--delivery-timeouts', 'tls=300'];

// A TCP server that accepts and never speaks: the TLS handshake times out.
const sockets: Socket[] = [];
const silent = createServer((s) => sockets.push(s));
let silentPort = 0;
let m: Material;
const receivers: Awaited<ReturnType<typeof startReceiver>>[] = [];

before(async () => {
  silentPort = await listen(silent);
  m = await makeMaterial(dir.path);
});
after(async () => {
  for (const s of sockets) s.destroy();
  silent.close();
  await Promise.all(receivers.map((r) => r.close()));
  dir.cleanup();
});

async function api(base: string, path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(res.ok, await res.clone().text());
  return (await res.json()) as { id: string };
}

/** One app, an endpoint that times out in TLS and one that answers 204; one message to both. */
async function deliverTwice(base: string, uid: string): Promise<void> {
  await api(base, '/app', { name: uid, uid });
  await api(base, `/app/${uid}/endpoint`, { url: `https://localhost:${silentPort}/slow?token=abc` });
  const platformCa = await (await fetch(`${base}/api/v1/trust/ca-bundle.pem`)).text();
  // Each server has a CA of its own: a receiver per server.
  const receiver = await startReceiver({
    server: { certPem: readFileSync(m.files.cert, 'utf8'), keyPem: readFileSync(m.files.key, 'utf8') },
    clientCaPem: platformCa,
  });
  receivers.push(receiver);
  await api(base, `/app/${uid}/endpoint`, { url: `https://localhost:${receiver.port}/ok`, serverCa: m.serverCaPem });
  await api(base, `/app/${uid}/msg`, { eventType: 'invoice.paid', payload: { n: 1 } });
}

/** Collects what `child` prints; `until(done)` resolves once `done(output)` holds, rejects if it ends first. */
function watch(child: ChildProcess) {
  let out = '';
  const waiting = new Set<() => void>();
  const seen = (c: Buffer) => {
    out += c.toString();
    for (const check of waiting) check();
  };
  child.stdout?.on('data', seen);
  child.stderr?.on('data', seen);
  const ended = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`))),
  );
  ended.catch(() => {});
  return {
    output: () => out,
    until: (done: (out: string) => boolean) =>
      Promise.race([
        ended,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`not seen in 10 s:\n${out}`)), 10_000).unref(),
        ),
        new Promise<string>((resolve) => {
          const check = () => {
            if (done(out)) {
              waiting.delete(check);
              resolve(out);
            }
          };
          waiting.add(check);
          check();
        }),
      ]),
  };
}

test('not on a terminal: JSON lines, one per request and one per delivery outcome', { timeout: 20_000 }, async () => {
  const serve = await startServe(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data', join(dir.path, 'json'), ...ARGS],
    env,
  );
  try {
    await deliverTwice(serve.url, 'json');
    const log = watch(serve.child);
    await log.until(
      () => serve.output().includes('"msg":"delivered"') && serve.output().includes('"msg":"delivery failed'),
    );
    const lines = serve
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const failed = lines.find((l) => l.msg === 'delivery failed');
    assert.equal(failed.failure, 'timeout');
    assert.equal(failed.phase, 'tls');
    assert.equal(failed.level, 40);
    assert.equal(failed.final, false);
    assert.equal(failed.url, `https://localhost:${silentPort}/slow`, 'the query string stays out');
    const delivered = lines.find((l) => l.msg === 'delivered');
    assert.equal(delivered.status, 200);
    const requests = lines.filter((l) => l.msg === 'request');
    assert.deepEqual(
      requests.map((l) => `${l.method} ${l.path} ${l.statusCode}`).filter((r) => !r.includes('ca-bundle')),
      [
        'POST /api/v1/app 201',
        'POST /api/v1/app/json/endpoint 201',
        'POST /api/v1/app/json/endpoint 201',
        'POST /api/v1/app/json/msg 202',
      ],
    );
    assert.ok(!lines.some((l) => /incoming request|request completed/.test(l.msg)), 'one line per request');
  } finally {
    await serve.stop();
  }
});

test('on a terminal: readable lines, the delivery outcomes in words', { skip: needTools('script') }, async () => {
  const port = await freePort();
  const command = [process.execPath, BIN, 'serve', '--port', String(port), '--data', join(dir.path, 'tty'), ...ARGS];
  // script runs the command on a pseudo-terminal and copies what it prints to its own output.
  const child = spawn('script', ['-qfec', command.join(' '), '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const log = watch(child);
  try {
    await log.until((out) => out.includes('hookwarden listening'));
    await deliverTwice(`http://127.0.0.1:${port}`, 'tty');
    const out = await log.until((o) => o.includes('delivered ') && o.includes('delivery failed'));
    assert.match(out, /\[\d\d:\d\d:\d\d\] INFO: hookwarden listening url=http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /INFO: POST \/api\/v1\/app\/tty\/msg 202 in \d+ ms/);
    assert.match(
      out,
      new RegExp(`WARN: delivery failed: msg_\\w+ to https://localhost:${silentPort}/slow: timeout \\(tls phase\\)`),
    );
    assert.match(out, /INFO: delivered msg_\w+ to https:\/\/localhost:\d+\/ok: 200 in \d+ ms/);
    assert.doesNotMatch(out, /"level":/);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

test('--log-format pretty forces readable lines off a terminal; a bad format is refused naming the flag', async () => {
  const args = [BIN, 'serve', '--port', '0', '--data', join(dir.path, 'forced'), '--log-format', 'pretty'];
  const pretty = spawn(process.execPath, args, { env });
  const log = watch(pretty);
  try {
    assert.match(await log.until((o) => o.includes('hookwarden listening')), /INFO: hookwarden listening url=http/);
    assert.doesNotMatch(log.output(), /"level":/);
  } finally {
    const exited = new Promise((r) => pretty.once('exit', r));
    pretty.kill('SIGTERM');
    await exited;
  }
  const bad = watch(spawn(process.execPath, [BIN, 'serve', '--log-format', 'fancy'], { env }));
  await assert.rejects(
    bad.until(() => false),
    /--log-format: 'fancy' is not one of auto, pretty, json/,
  );
});

test('the readable text of lines serve writes', () => {
  assert.equal(
    lineText({ msg: 'request', method: 'GET', path: '/x', statusCode: 200, durationMs: 3 }),
    'GET /x 200 in 3 ms',
  );
  assert.equal(
    lineText({
      msg: 'delivery failed',
      msgId: 'msg_1',
      url: 'https://r/h',
      failure: 'http_status',
      status: 500,
      final: true,
    }),
    'delivery failed: msg_1 to https://r/h: http_status, answered 500',
  );
  assert.equal(
    lineText({ msg: 'stopping', signal: 'SIGTERM', err: { message: 'x' } }),
    'stopping signal=SIGTERM error: x',
  );
});
