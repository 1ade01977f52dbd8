import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { startReceiver, tempDir, waitFor } from '@hookwarden/testkit';

const BIN = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const TOKEN = 'crash-test-admin-token-0123456789';
const MESSAGES = 2000;
const children: ChildProcess[] = [];
const dir = tempDir();
const closers: (() => Promise<void>)[] = [];

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of closers) await c();
  dir.cleanup();
});

/** Spawns the real `hookwarden serve` on port 0 and reads its URL from the "listening" log line. */
async function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dir.path, '--allow-private-targets'], {
    env: { ...process.env, HOOKWARDEN_ADMIN_TOKEN: TOKEN, HOOKWARDEN_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"hookwarden listening"/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  // Keep draining its output so the pipe never blocks it.
  child.stdout?.resume();
  return { child, url };
}

test('kill -9 while delivering 2,000 messages, start again: every webhook-id arrives', {
  timeout: 120_000,
}, async () => {
  let first = await serve();
  const api = (url: string) => async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  let call = api(first.url);

  // The receiver trusts only the CA that this serve created on its first start.
  const platformCa = await (await fetch(`${first.url}/api/v1/trust/ca-bundle.pem`)).text();
  const receiverCa = await createSelfSignedCa({ subject: 'CN=Crash Receiver CA' });
  const cert = await issueCertificate(receiverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  // Answers are held until every message is accepted, so the kill lands mid-delivery.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const seen = new Set<string>();
  const receiver = await startReceiver({
    server: cert,
    clientCaPem: platformCa,
    respond: async (r) => {
      await gate;
      seen.add(String(r.headers['webhook-id']));
      return 200;
    },
  });
  closers.push(() => receiver.close());

  const app = await call('POST', '/api/v1/app', { name: 'crash' });
  await call('POST', `/api/v1/app/${app.id}/endpoint`, { url: receiver.url, serverCa: receiverCa.certPem });
  const accepted = new Set<string>();
  for (let i = 0; i < MESSAGES; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, MESSAGES - i) }, (_, j) =>
        call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'crash.test', payload: { n: i + j } }),
      ),
    );
    for (const m of batch) accepted.add(m.id);
  }
  assert.equal(accepted.size, MESSAGES);
  open();
  await waitFor(() => seen.size >= MESSAGES / 4, receiver.onRequest, 60_000, 'deliveries under way');
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  assert.ok(seen.size < MESSAGES, `killed mid-delivery (${seen.size} seen)`);

  first = await serve();
  call = api(first.url);
  await waitFor(
    () => seen.size >= MESSAGES,
    receiver.onRequest,
    90_000,
    `all ${MESSAGES} webhook-ids (have ${seen.size})`,
  );
  for (const id of accepted) assert.ok(seen.has(id), `${id} never arrived`);
  first.child.kill('SIGTERM');
  const [code] = await once(first.child, 'exit');
  assert.equal(code, 0, 'SIGTERM is a clean stop');
});
