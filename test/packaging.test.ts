/**
 * The packages as npm ships them: every published package is packed (`npm pack`), checked with
 * publint and arethetypeswrong, and installed from its tarball into an empty project, third-party
 * dependencies from the registry (or npm's cache). There, with plain `node` (no loader, no source
 * condition), a receiver imports and requires @hookwarden/verify, TypeScript consumers type-check,
 * and the `hookwarden` command runs and serves.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startServe, tempDir } from '@hookwarden/testkit';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const PUBLISHED = ['packages/verify', 'packages/pki', 'packages/server', 'packages/cli'];
const require = createRequire(import.meta.url);
// The consumer runs with plain node: nothing of this test process's loader or conditions.
const { NODE_OPTIONS: _, ...plainEnv } = process.env;

const dir = tempDir('hw-packaging-');
const app = join(dir.path, 'app');
let tarballs: { name: string; file: string }[] = [];
let lint: Promise<string[]>;
after(() => dir.cleanup());

/** The version this repository installed, so the consumer gets the same (and the same native binding). */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
}

before(async () => {
  await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: ROOT });
  const packed = await run(
    'npm',
    ['pack', '--json', '--pack-destination', dir.path, ...PUBLISHED.flatMap((p) => ['--workspace', p])],
    { cwd: ROOT },
  );
  tarballs = (JSON.parse(packed.stdout) as { name: string; filename: string }[]).map((t) => ({
    name: t.name,
    file: join(dir.path, t.filename),
  }));
  lint = lintTarballs(tarballs.map((t) => t.file));
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      private: true,
      dependencies: {
        ...Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.file}`])),
        ...Object.fromEntries(
          ['standardwebhooks', '@types/node', '@types/express', 'hono'].map((n) => [n, installedVersion(n)]),
        ),
      },
      overrides: { 'better-sqlite3': installedVersion('better-sqlite3') },
    }),
  );
  // Scripts off: the only one is better-sqlite3's native build, minutes from source on a machine
  // without a prebuilt binary; the binding this repository built for the same version is copied in.
  await run(
    'npm',
    [
      'install',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: app },
  );
  const binding = 'better-sqlite3/build/Release/better_sqlite3.node';
  mkdirSync(join(app, 'node_modules', binding, '..'), { recursive: true });
  copyFileSync(join(ROOT, 'node_modules', binding), join(app, 'node_modules', binding));
});

/**
 * publint's errors and warnings, and arethetypeswrong's problems under its `esm-only` profile: the
 * packages are ES modules only, so what a CommonJS or node10 resolution makes of them is out (the
 * CLI's `--profile esm-only`, run in-process: one TypeScript load for all packages).
 */
async function lintTarballs(files: string[]): Promise<string[]> {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const attw = await import('@arethetypeswrong/core');
  const found: string[] = [];
  for (const file of files) {
    const data = readFileSync(file);
    const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball }, level: 'warning' });
    for (const m of messages) found.push(`publint ${file}: ${formatMessage(m, pkg) ?? m.code}`);
    const analysis = await attw.checkPackage(attw.createPackageFromTarballData(new Uint8Array(data)));
    if (!analysis.types) {
      found.push(`attw ${file}: no types`);
      continue;
    }
    for (const p of analysis.problems) {
      const resolution = 'resolutionKind' in p ? p.resolutionKind : undefined;
      if (resolution !== 'node10' && resolution !== 'node16-cjs') found.push(`attw ${file}: ${JSON.stringify(p)}`);
    }
  }
  return found;
}

function node(args: string[]) {
  const r = spawnSync(process.execPath, args, { cwd: app, env: plainEnv, encoding: 'utf8' });
  assert.equal(r.status, 0, `node ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The checks share the install and write different files: run them side by side (2 cores).
describe('the packed packages, installed', { concurrency: true }, () => {
  test('every package packs with dist, README and LICENSE only (and the bin of the CLI, the assets of the server); publint and arethetypeswrong find nothing', async () => {
    assert.deepEqual(tarballs.map((t) => t.name).sort(), [
      '@hookwarden/pki',
      '@hookwarden/server',
      '@hookwarden/verify',
      'hookwarden',
    ]);
    for (const t of tarballs) {
      const { stdout } = await run('tar', ['-tzf', t.file]);
      const top = new Set(
        stdout
          .split('\n')
          .filter(Boolean)
          .map((f) => f.split('/')[1]),
      );
      // The server reads the portal's static files from its own assets/ folder.
      const extra: Record<string, string[]> = { hookwarden: ['bin'], '@hookwarden/server': ['assets'] };
      const expected = ['LICENSE', 'README.md', 'dist', 'package.json', ...(extra[t.name] ?? [])].sort();
      assert.deepEqual([...top].sort(), expected, t.name);
      assert.ok(!stdout.includes('.tsbuildinfo'), t.name);
    }
    assert.deepEqual(await lint, []);
  });

  test('ES module: imports @hookwarden/verify, accepts a message signed by standardwebhooks, refuses it tampered', () => {
    writeFileSync(
      join(app, 'receiver.mjs'),
      `import { createVerifier, VerificationError } from '@hookwarden/verify';
  import { generateSecret } from '@hookwarden/verify/signature';
  import { Webhook } from 'standardwebhooks';

  const secret = generateSecret();
  const body = JSON.stringify({ type: 'invoice.paid', amount: 4200 });
  const at = new Date();
  const headers = {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign('msg_1', at, body),
  };
  const verifier = createVerifier({ signature: { secrets: [secret] } });
  const request = (text) => ({ method: 'POST', url: '/', headers, body: Buffer.from(text), remoteAddress: '127.0.0.1' });
  const { checks, payload, webhookId } = await verifier.verify(request(body));
  const tampered = await verifier.verify(request(body.replace('4200', '4201'))).then(
    () => 'accepted',
    (err) => (err instanceof VerificationError ? err.code : String(err)),
  );
  console.log(JSON.stringify({ checks, payload, webhookId, tampered, from: import.meta.resolve('@hookwarden/verify') }));
  `,
    );
    const out = JSON.parse(node(['receiver.mjs']));
    assert.deepEqual(out.checks, ['signature']);
    assert.deepEqual(out.payload, { type: 'invoice.paid', amount: 4200 });
    assert.equal(out.webhookId, 'msg_1');
    assert.equal(out.tampered, 'HW_SIGNATURE_INVALID');
    assert.equal(
      realpathSync(new URL(out.from).pathname),
      realpathSync(join(app, 'node_modules/@hookwarden/verify/dist/index.js')),
    );
  });

  test('CommonJS: require(@hookwarden/verify) and its subpaths', () => {
    writeFileSync(
      join(app, 'receiver.cjs'),
      `const { createVerifier } = require('@hookwarden/verify');
  const { generateSecret, sign } = require('@hookwarden/verify/signature');

  const secret = generateSecret();
  const body = '{"a":1}';
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(timestamp), 'webhook-signature': sign({ msgId: 'msg_2', timestamp, body, secrets: [secret] }) };
  createVerifier({ signature: { secrets: [secret] } })
    .verify({ method: 'POST', url: '/', headers, body: Buffer.from(body), remoteAddress: '127.0.0.1' })
    .then((v) => console.log(JSON.stringify({ payload: v.payload, from: require.resolve('@hookwarden/verify') })));
  `,
    );
    const out = JSON.parse(node(['receiver.cjs']));
    assert.deepEqual(out.payload, { a: 1 });
    assert.equal(realpathSync(out.from), realpathSync(join(app, 'node_modules/@hookwarden/verify/dist/index.js')));
  });

  test('TypeScript consumers type-check the published types: moduleResolution nodenext and bundler', async () => {
    writeFileSync(
      join(app, 'consumer.mts'),
      `import { createHierarchy } from '@hookwarden/pki';
  import { startServer } from '@hookwarden/server';
  import { createVerifier, ERROR_CODES, type Verified, VerificationError } from '@hookwarden/verify';
  import { parseDn } from '@hookwarden/verify/dn';
  import { expressVerifier } from '@hookwarden/verify/express';
  import { fastifyVerifier } from '@hookwarden/verify/fastify';
  import { type HonoVerifiedVariables, honoVerifier } from '@hookwarden/verify/hono';
  import { verifiedHandler } from '@hookwarden/verify/node';
  import { generateProxyConfig } from '@hookwarden/verify/proxy-config';
  import { sign } from '@hookwarden/verify/signature';
  import type { RequestHandler } from 'express';
  import { Hono } from 'hono';

  type Invoice = { type: 'invoice.paid'; amount: number };
  const verifier = createVerifier<Invoice>({ signature: { secrets: [sign.name] } });
  export const node = verifiedHandler(verifier, (_req, res, { facts }) => void res.end(String(facts.payload.amount)), { path: '/hooks' });
  export const express: RequestHandler<any, unknown, Buffer, any, { hookwarden: Verified<Invoice> }> = expressVerifier(verifier);
  export const fastify = fastifyVerifier(verifier, (scope, verified) => {
    scope.post('/hooks', async (request) => verified(request).payload.amount);
  });
  export const hono = new Hono<{ Variables: HonoVerifiedVariables<Invoice> }>().post('/hooks', honoVerifier(verifier), (c) =>
    c.json({ amount: c.get('hookwarden').payload.amount }),
  );
  // @ts-expect-error the payload is typed, not any
  export const wrong: string = ({} as Verified<Invoice>).payload.amount;
  export const status: 401 = ERROR_CODES.HW_SIGNATURE_INVALID.status;
  export const refusal = new VerificationError('HW_REPLAYED').status;
  export const more = [createHierarchy, startServer, parseDn, generateProxyConfig];
  `,
    );
    writeFileSync(
      join(app, 'consumer.cts'),
      `import verify = require('@hookwarden/verify');
  const verifier = verify.createVerifier<{ a: number }>({ ipAllowlist: ['127.0.0.1'] });
  export = verifier;
  `,
    );
    // nodenext also checks every .d.ts it loads (ours included: their relative imports must name
    // files, stricter than bundler); bundler checks what its consumer sees, and skipping the library
    // check there halves its time.
    const options = { strict: true, noEmit: true, target: 'ES2022', lib: ['ES2023'], types: ['node'] };
    const configs = {
      'tsconfig.nodenext.json': {
        compilerOptions: { ...options, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext' },
        files: ['consumer.mts', 'consumer.cts'],
      },
      'tsconfig.bundler.json': {
        compilerOptions: { ...options, skipLibCheck: true, module: 'preserve', moduleResolution: 'bundler' },
        files: ['consumer.mts'],
      },
    };
    const tsc = require.resolve('typescript/bin/tsc');
    await Promise.all(
      Object.entries(configs).map(async ([file, config]) => {
        writeFileSync(join(app, file), JSON.stringify(config));
        const r = await run(process.execPath, [tsc, '-p', file], { cwd: app, env: plainEnv }).catch((e) => e);
        assert.equal(r.code ?? 0, 0, `${file}:\n${r.stdout}${r.stderr}`);
      }),
    );
  });

  test('hookwarden --help, and hookwarden serve until /api/v1/health answers', async () => {
    const bin = join(app, 'node_modules/.bin/hookwarden');
    assert.ok(realpathSync(bin).startsWith(realpathSync(app)), 'the installed command, not the repository one');
    assert.match(node([bin, '--help']), /^Usage: hookwarden <command>/);
    const serving = await startServe(
      process.execPath,
      [bin, 'serve', '--port', '0', '--data', join(dir.path, 'data')],
      plainEnv,
    );
    try {
      assert.equal((await fetch(`${serving.url}/api/v1/health`)).status, 204, serving.output());
    } finally {
      assert.equal(await serving.stop(), 0, serving.output());
    }
  });
});
