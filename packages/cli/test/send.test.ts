import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { caBundlePem, chainPem, createHierarchy, describeCertificate } from '@hookwarden/pki';
import { type RunningServer, startServer } from '@hookwarden/server';
import { listen, tempDir } from '@hookwarden/testkit';

const bin = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const TOKEN = 'send-admin-token-0123456789abcdef';
const dir = tempDir();
let server: RunningServer;
let receiver: ReturnType<typeof createServer>;
const received: string[] = [];
let goodUrl: string;
let closedUrl: string;

function send(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, 'send', '--url', server.url, '--data', dir.path, ...args],
      { env: { ...process.env, HOOKWARDEN_ADMIN_TOKEN: '', ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function api(path: string, body: unknown) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(res.ok, `${path}: ${res.status} ${await res.text()}`);
}

before(async () => {
  const h = await createHierarchy({ subject: 'CN=send.hookwarden.test' });
  const identity = {
    certPem: h.leaf.certPem,
    keyPem: h.leaf.keyPem,
    chainPem: chainPem(h),
    caBundlePem: caBundlePem(h),
    current: describeCertificate(h.leaf.certPem),
  };
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  goodUrl = `http://127.0.0.1:${await listen(receiver)}/hooks`;
  // A port nobody listens on: taken from the kernel, then given back.
  const closed = createServer();
  closedUrl = `http://127.0.0.1:${await listen(closed)}/down`;
  await new Promise((r) => closed.close(r));
  writeFileSync(join(dir.path, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
  server = await startServer({
    port: 0,
    dataDir: join(dir.path, 'db'),
    adminToken: TOKEN,
    identity: () => identity,
    allowPrivateTargets: true,
    logLevel: 'silent',
  });
  await api('/app', { name: 'Acme', uid: 'acme' });
  await api('/app/acme/endpoint', { url: goodUrl, allowHttp: true, filterTypes: ['invoice.paid'] });
  await api('/app', { name: 'Both', uid: 'both' });
  await api('/app/both/endpoint', { url: goodUrl, allowHttp: true });
  await api('/app/both/endpoint', { url: closedUrl, allowHttp: true });
});
after(async () => {
  await server.close({ deadlineMs: 100 });
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  dir.cleanup();
});

test('send --wait delivers and prints each endpoint’s answer; the token comes from the data directory', async () => {
  const r = await send(['acme', 'invoice.paid', '{"invoice":42}', '--wait']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^sent msg_\S+ \(invoice\.paid\) to 1 endpoint\n/);
  assert.match(r.stdout, new RegExp(`✔ ${goodUrl}  204 in \\d+ ms`));
  assert.ok(received.includes('{"invoice":42}'));
});

test('a failed delivery is shown with its kind and the next attempt, and the exit status is 1', async () => {
  const r = await send(['both', 'invoice.paid', '--wait', '--timeout', '20']);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stdout, /to 2 endpoints/);
  assert.match(r.stdout, new RegExp(`✔ ${goodUrl}  204`));
  assert.match(r.stdout, new RegExp(`✘ ${closedUrl}  no answer in \\d+ ms: connect .*; next attempt \\d{4}-`));
});

test('the same --event-id again says nothing new is delivered; no endpoint for the type is said too', async () => {
  const first = await send(['acme', 'invoice.paid', '{}', '--event-id', 'inv-7']);
  assert.equal(first.code, 0, first.stderr);
  const id = /^sent (msg_\S+)/.exec(first.stdout)?.[1];
  const again = await send(['acme', 'invoice.paid', '{}', '--event-id', 'inv-7', '--wait']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `already sent as ${id} (same --event-id inv-7): nothing new is delivered\n`);
  const none = await send(['acme', 'invoice.voided']);
  assert.match(none.stdout, /to 0 endpoints\n {2}no enabled endpoint of this application takes this event type/);
  const json = JSON.parse((await send(['acme', 'invoice.paid', '--json'])).stdout);
  assert.equal(json.repeated, false);
  assert.match(json.message.id, /^msg_/);
  assert.equal(json.destinations.length, 1);
});

test('bad usage exits 2; API errors and an unreachable server say what is wrong', async () => {
  for (const args of [
    ['acme'],
    ['acme', 'e', '[1]'],
    ['acme', 'e', '{oops'],
    ['acme', 'e', '{}', 'extra'],
    ['acme', 'e', '--timeout', 'soon'],
  ]) {
    const r = await send(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^hookwarden send: .+\n\nUsage: hookwarden send/, args.join(' '));
  }
  const missing = await send(['no-such-app', 'e']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^hookwarden send: \S+: 404 from \/app\/no-such-app\/msg: /);
  const badToken = await send(['acme', 'e'], { HOOKWARDEN_ADMIN_TOKEN: 'wrong-token-0123456789' });
  assert.match(badToken.stderr, /401 from/);
  const noToken = await send(['acme', 'e', '--data', join(dir.path, 'nowhere')]);
  assert.match(noToken.stderr, /HW_CLI_NO_TOKEN: cannot read the admin token from .*nowhere\/admin-token \(ENOENT\)/);
  const down = await send(['acme', 'e', '--url', closedUrl]);
  assert.match(
    down.stderr,
    /HW_CLI_UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:\d+\/down \(ECONNREFUSED\): is hookwarden serve running there\?/,
  );
});
