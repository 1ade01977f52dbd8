import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lockDataDirectory } from '@hookwarden/server';
import { tempDir } from '@hookwarden/testkit';

const BIN = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const dir = tempDir();
after(() => dir.cleanup());

const env = { ...process.env, HOOKWARDEN_ADMIN_TOKEN: '' };

test('serve --help, and clear errors for bad options', () => {
  const help = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--egress-cidr/);
  const pg = spawnSync(process.execPath, [BIN, 'serve', '--database-url', 'postgres://db/hw', '--data', dir.path], {
    encoding: 'utf8',
    env,
  });
  assert.equal(pg.status, 1);
  assert.match(pg.stderr, /HW_DATABASE_UNSUPPORTED: PostgreSQL support is not available yet/);
  const port = spawnSync(process.execPath, [BIN, 'serve', '--port', '99999'], { encoding: 'utf8', env });
  assert.equal(port.status, 1);
  assert.match(port.stderr, /--port/);
  const cidr = spawnSync(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data', dir.path, '--egress-cidr', '10.0.0.1/8'],
    {
      encoding: 'utf8',
      env,
    },
  );
  assert.equal(cidr.status, 1);
  assert.match(cidr.stderr, /egressCidrs\[0\].*host bits set/);
  const publicUrl = spawnSync(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data', dir.path, '--public-url', 'https://hooks.example.com/base'],
    { encoding: 'utf8', env },
  );
  assert.equal(publicUrl.status, 1);
  assert.match(publicUrl.stderr, /publicUrl: must be an origin only/);
  const unknown = spawnSync(process.execPath, [BIN, 'serve', '--no-such-flag'], { encoding: 'utf8', env });
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /^hookwarden serve: Unknown option '--no-such-flag'\n\nUsage: hookwarden serve/);
});

test('first start on a fresh data dir: CA, client certificate, admin token 0600 printed once; SIGTERM exits 0', async () => {
  const data = join(dir.path, 'fresh');
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data], {
    // A list as people write it in an environment file: a space after the comma.
    env: {
      ...env,
      HOOKWARDEN_EGRESS_CIDRS: '203.0.113.7/32, 2001:DB8::/32',
      HOOKWARDEN_PUBLIC_URL: 'https://hooks.example.com/',
      HOOKWARDEN_PORTAL_FRAME_ANCESTORS: 'https://dashboard.example.com, https://admin.example.com',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"hookwarden listening"/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  assert.equal(statSync(join(data, 'admin-token')).mode & 0o777, 0o600);
  assert.equal(statSync(data).mode & 0o777, 0o700);
  assert.equal(statSync(join(data, 'hookwarden.db')).mode & 0o777, 0o600);
  assert.ok(err.includes(token), 'the token is shown on the terminal');
  assert.ok(!out.includes(token), 'the token never reaches the JSON log');
  const second = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--data', data], { encoding: 'utf8', env });
  assert.equal(second.status, 1);
  assert.match(second.stderr, /HW_DATA_DIR_IN_USE/, 'a second server on the same data directory is refused');
  const apps = await fetch(`${url}/api/v1/app`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(apps.status, 200);
  const trust = (await (await fetch(`${url}/api/v1/trust`)).json()) as {
    certificates: { current: { subject: string } };
    signingPublicKeys: string[];
    egressCidrs: string[];
  };
  assert.match(trust.certificates.current.subject, /CN=Hookwarden webhooks/);
  // Published in the receivers' canonical form, which their parser takes back.
  assert.deepEqual(trust.egressCidrs, ['203.0.113.7/32', '2001:db8::/32']);
  assert.equal(trust.signingPublicKeys.length, 1);
  // Portal links carry the public URL; the portal may be framed by the pages named.
  const app = (await (
    await fetch(`${url}/api/v1/app`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"name":"a"}',
    })
  ).json()) as { id: string };
  const access = (await (
    await fetch(`${url}/api/v1/auth/app-portal-access/${app.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    })
  ).json()) as { url: string };
  assert.match(access.url, /^https:\/\/hooks\.example\.com\/portal\/login#key=/);
  const portal = await fetch(`${url}/portal/login`);
  assert.match(
    portal.headers.get('content-security-policy') ?? '',
    /frame-ancestors https:\/\/dashboard\.example\.com https:\/\/admin\.example\.com/,
  );
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.ok(!out.includes(token));
  // The data directory is free for the next process at once.
  lockDataDirectory(data, { waitMs: 0 }).release();
});

test('under npx, a SIGTERM that kills the wrapping shell stops the server as SIGTERM would', {
  timeout: 30_000,
}, async (t) => {
  // What `npx hookwarden serve` runs: npm passes SIGTERM to `sh -c`, and dash dies of it without
  // passing it on. The server notices it lost that parent and stops cleanly.
  const data = join(dir.path, 'under-npx');
  const shell = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" serve --port 0 --data "${data}"`], {
    env: { ...env, npm_lifecycle_event: 'npx' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listening = new Promise<{ url: string; pid: number }>((resolve, reject) => {
    shell.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"pid":(\d+)[^\n]*"url":"(http:\/\/[^"]+)"[^\n]*"msg":"hookwarden listening"/.exec(out);
      if (m) resolve({ pid: Number(m[1]), url: m[2] as string });
    });
    shell.once('exit', (code) => reject(new Error(`shell exited ${code} before the server listened`)));
  });
  shell.stderr.resume();
  const { url, pid } = await listening;
  // Should the server not stop (the failure this test looks for), it must not outlive the test.
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  });
  assert.notEqual(pid, shell.pid, 'the shell did not exec the server: it is its parent');
  assert.equal((await fetch(`${url}/api/v1/health`)).status, 204);
  // The server and the shell share the stdout pipe: it ends when both have exited.
  const ended = once(shell.stdout, 'end');
  shell.kill('SIGTERM');
  await ended;
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; signal?: string });
  assert.equal(lines.find((l) => l.msg.startsWith('stopping'))?.signal, 'npm-wrapper-gone');
  assert.equal(lines.at(-1)?.msg, 'stopped');
  // It exits once the command returns; orphaned, it is reaped by whoever adopted it (or stays a
  // zombie, which has exited too).
  const exited = () => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;
    } catch {
      return true;
    }
  };
  for (const deadline = Date.now() + 10_000; !exited(); ) {
    assert.ok(Date.now() < deadline, 'the server process exits');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // The data directory is free for the next process at once.
  lockDataDirectory(data, { waitMs: 0 }).release();
});

test('an existing secret file that others may read is refused, not used', () => {
  const data = join(dir.path, 'leaky');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  writeFileSync(join(data, 'admin-token'), 'leaky-admin-token-0123456789\n', { mode: 0o644 });
  chmodSync(join(data, 'admin-token'), 0o644);
  const run = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--data', data], { encoding: 'utf8', env });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /HW_SECRET_FILE_PERMISSIONS: .*admin-token is readable by others \(mode 644\)/);
  assert.ok(!run.stderr.includes('leaky-admin-token'), 'the secret itself is not printed');
});
