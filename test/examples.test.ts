/**
 * The receivers in examples/, each run as a user runs it (`node examples/<name>.mjs`, configured by
 * its environment) and sent a callback by a real `hookwarden serve` over TLS on loopback, with the
 * platform's client certificate and signature: the delivery succeeds, the receiver logs what it
 * verified, and a request without the platform's credentials is refused. The nginx one runs behind
 * the configuration `hookwarden proxy-config nginx --standalone` writes, in a real nginx.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, needTools, post, type Serving, startServe, tempDir, waitForPort } from '@hookwarden/testkit';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'packages/cli/bin/hookwarden.js');
const TOKEN = 'hwadm_examples-test-token';
const { NODE_OPTIONS: _, ...plain } = process.env;
const env = { ...plain, HOOKWARDEN_ADMIN_TOKEN: TOKEN, NO_COLOR: '1' };
const run = promisify(execFile);

const skip = needTools('openssl', 'nginx');
const dir = tempDir('hw-examples-');
const children: ChildProcess[] = [];
let serve: Serving | undefined;
let files: Record<'cert' | 'key' | 'platformCa' | 'receiverCa', string>;

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  await serve?.stop();
  dir.cleanup();
});

function openssl(...args: string[]) {
  const r = spawnSync('openssl', args, { cwd: dir.path, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${serve?.url}/api/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  assert.ok(res.ok, `${path}: ${res.status} ${text}`);
  return (text.startsWith('{') ? JSON.parse(text) : text) as T;
}

before(async () => {
  if (skip) return;
  // The receiver's server certificate for localhost, from a private CA of its own.
  files = {
    cert: join(dir.path, 'receiver-cert.pem'),
    key: join(dir.path, 'receiver-key.pem'),
    platformCa: join(dir.path, 'platform-ca.pem'),
    receiverCa: join(dir.path, 'receiver-ca.pem'),
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=Examples CA',
    '-keyout',
    'ca-key.pem',
    '-out',
    'receiver-ca.pem',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  openssl('req', ...ec, '-subj', '/CN=localhost', '-keyout', 'receiver-key.pem', '-out', 'receiver.csr');
  writeFileSync(join(dir.path, 'ext'), 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'receiver.csr',
    '-CA',
    'receiver-ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-days',
    '2',
    '-extfile',
    'ext',
    '-out',
    'receiver-cert.pem',
  );

  serve = await startServe(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--data', join(dir.path, 'data'), '--allow-private-targets'],
    env,
  );
  writeFileSync(files.platformCa, await api<string>('/trust/ca-bundle.pem'));
  await api('/app', { name: 'Examples', uid: 'examples' });
});

/** Starts `node <file>` with `vars` and resolves once it says it listens. */
function start(file: string, vars: Record<string, string>): Promise<{ output: () => string }> {
  const child = spawn(process.execPath, [join(ROOT, 'examples', file)], {
    cwd: dir.path,
    env: { ...plain, ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const seen = (c: Buffer) => {
      out += c.toString();
      if (out.includes('listening on')) resolve({ output: () => out });
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}:\n${out}`)));
  });
}

/** Waits for `pattern` in `output()`, as the receiver's log grows. */
async function logged(receiver: { output: () => string }, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  // The child's stdout arrives in chunks on this process's event loop; look again after each turn.
  while (!pattern.test(receiver.output())) {
    assert.ok(Date.now() < deadline, `not logged: ${pattern}\n${receiver.output()}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** An endpoint for `url` with its own event type; its secret. */
async function endpoint(url: string, eventType: string): Promise<string> {
  const ep = await api<{ id: string }>('/app/examples/endpoint', {
    url,
    filterTypes: [eventType],
    serverCa: readFileSync(files.receiverCa, 'utf8'),
  });
  return (await api<{ key: string }>(`/app/examples/endpoint/${ep.id}/secret`)).key;
}

/** `hookwarden send --wait`: exit 0 only when the endpoint answered 2xx to its first attempt. */
async function send(eventType: string, payload: object): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'send', 'examples', eventType, JSON.stringify(payload), '--wait', '--url', serve?.url as string],
    { env },
  );
  return stdout;
}

const tlsVars = () => ({ RECEIVER_CERT: files.cert, RECEIVER_KEY: files.key, PLATFORM_CA: files.platformCa });

for (const name of ['node-http', 'express', 'fastify', 'hono']) {
  test(`examples/${name}.mjs verifies a delivery from hookwarden serve and refuses a stranger`, { skip }, async () => {
    const port = await freePort();
    const eventType = `${name}.tested`;
    const secret = await endpoint(`https://localhost:${port}/hooks`, eventType);
    const receiver = await start(`${name}.mjs`, { ...tlsVars(), PORT: String(port), WEBHOOK_SECRET: secret });

    const out = await send(eventType, { example: name });
    assert.match(out, /✔ https:\/\/localhost:\d+\/hooks {2}204 in \d+ ms \(TLSv1\.3, client certificate sent\)/);
    await logged(receiver, new RegExp(`verified msg_\\w+ \\{"example":"${name}"\\}`));

    const stranger = await post(port, { tls: { ca: readFileSync(files.receiverCa, 'utf8') }, body: '{}' });
    assert.equal(stranger.status, 401, stranger.body ?? stranger.error);
    assert.equal(JSON.parse(stranger.body as string).code, 'HW_CERT_MISSING');
  });
}

test('examples/nginx: the generated standalone nginx in front of the app', { skip }, async () => {
  const [nginxPort, appPort] = [await freePort(), await freePort()];
  const eventType = 'nginx.tested';
  const secret = await endpoint(`https://localhost:${nginxPort}/hooks`, eventType);
  const app = await start('nginx/app.mjs', { PORT: String(appPort), WEBHOOK_SECRET: secret });
  const nginxDir = join(dir.path, 'nginx');
  mkdirSync(nginxDir);
  await run(
    process.execPath,
    [
      CLI,
      'proxy-config',
      'nginx',
      '--standalone',
      'nginx',
      '--server-name',
      'localhost',
      '--listen',
      `127.0.0.1:${nginxPort}`,
      '--upstream',
      `http://127.0.0.1:${appPort}`,
      '--ca-bundle',
      'platform-ca.pem',
      '--cert',
      'receiver-cert.pem',
      '--key',
      'receiver-key.pem',
      '--source-address',
      '127.0.0.2',
      '--out',
      'nginx/nginx.conf',
    ],
    { cwd: dir.path, env },
  );
  const nginx = spawn('nginx', ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')], { stdio: 'ignore' });
  children.push(nginx);
  await waitForPort(nginxPort, nginx);

  const out = await send(eventType, { example: 'nginx' });
  assert.match(out, /✔ https:\/\/localhost:\d+\/hooks {2}204 in \d+ ms \(TLSv1\.3, client certificate sent\)/);
  await logged(app, /verified msg_\w+ \{"example":"nginx"\}/);

  // Without a client certificate nginx itself refuses; headers sent to the app directly are not believed.
  const stranger = await post(nginxPort, { tls: { ca: readFileSync(files.receiverCa, 'utf8') }, body: '{}' });
  assert.equal(stranger.status, 400, stranger.body ?? stranger.error);
  const forged = await post(appPort, {
    headers: { 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-subject-dn': 'CN=Hookwarden webhooks,O=Hookwarden' },
    body: '{}',
  });
  assert.equal(forged.status, 403, forged.body);
  assert.equal(JSON.parse(forged.body as string).code, 'HW_PROXY_UNTRUSTED');
});
