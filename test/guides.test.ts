/**
 * The guides as a reader follows them: their shell blocks run as written, against the compiled
 * `hookwarden` command, on loopback, in an empty folder that sees this repository's node_modules
 * (as a clone does after `npm ci`). The ports come in through the variables the guides set
 * themselves (`PORT=${PORT:-8071}`), so a guide that breaks fails here.
 */
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, type GuideRun, guideBlocks, needTools, runGuide, tempDir } from '@hookwarden/testkit';

const ROOT = new URL('..', import.meta.url).pathname;
const doc = (name: string) => join(ROOT, 'docs', name);

/** This environment without what would steer the reader's commands elsewhere. */
function readerEnv(ports: Record<string, number>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('HOOKWARDEN_') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  return { ...env, NO_COLOR: '1', npm_config_update_notifier: 'false' };
}

test('the block syntax: language, terminals of their own, files, blocks only shown', () => {
  const blocks = guideBlocks(
    [
      '```sh server ready="up now"',
      'serve',
      '```',
      '```js file=a/b.mjs',
      'x()',
      '```',
      '```sh skip',
      'curl https://example.com',
      '```',
      '```sh',
      'echo hi',
      '```',
    ].join('\n'),
  );
  assert.deepEqual(
    blocks.map((b) => [b.lang, b.server, b.ready, b.file, b.skip, b.body, b.line]),
    [
      ['sh', true, 'up now', undefined, false, 'serve\n', 1],
      ['js', false, undefined, 'a/b.mjs', false, 'x()\n', 4],
      ['sh', false, undefined, undefined, true, 'curl https://example.com\n', 7],
      ['sh', false, undefined, undefined, false, 'echo hi\n', 10],
    ],
  );
});

test('a failing command fails the guide, naming its block', async () => {
  const dir = tempDir('hw-guide-');
  after(() => dir.cleanup());
  const guide = join(dir.path, 'guide.md');
  writeFileSync(guide, '```sh\necho first\n```\n\n```sh\nfalse\necho never\n```\n');
  await assert.rejects(runGuide([guide], dir.path, readerEnv({})), (err: Error) => {
    assert.match(err.message, /guide\.md:5: exited with 1/);
    assert.match(err.message, /first/);
    assert.doesNotMatch(err.message, /never/);
    return true;
  });
});

test('quickstart, then the gate tried on the same receiver: every step works as written', {
  skip: needTools('bash', 'curl', 'jq', 'openssl'),
  timeout: 150_000,
}, async () => {
  const dir = tempDir('hw-guide-');
  after(() => dir.cleanup());
  symlinkSync(join(ROOT, 'node_modules'), join(dir.path, 'node_modules'));
  const ports = {
    PORT: await freePort(),
    RECEIVER_PORT: await freePort(),
    APP_PORT: await freePort(),
    GATE_PORT: await freePort(),
  };
  let run: GuideRun | undefined;
  after(() => run?.stop());
  run = await runGuide([doc('quickstart.md'), doc('gate.md')], dir.path, readerEnv(ports), 60_000);
  const [serve, receiver, app, gate] = run.servers.map((s) => s.output());
  const t = run.transcript;

  // Step 4: the first attempt succeeded, with the client certificate, and the receiver verified it.
  assert.match(t, /sent msg_\w+ \(invoice\.paid\) to 1 endpoint/);
  assert.match(
    t,
    new RegExp(
      `✔ https://localhost:${ports.RECEIVER_PORT}/hooks {2}204 in \\d+ ms \\(TLSv1\\.3, client certificate sent\\)`,
    ),
  );
  assert.match(receiver ?? '', /verified msg_\w+ from Hookwarden webhooks \{"invoice":42,"amount":"19\.00"\}/);
  assert.match(receiver ?? '', /verified msg_\w+ from Hookwarden webhooks \{"invoice":43,"amount":"7\.50"\}/);
  // The same eventId again: nothing new.
  assert.match(t, /already sent as msg_\w+ \(same --event-id inv-42\): nothing new is delivered/);
  assert.equal((receiver ?? '').match(/"invoice":42/g)?.length, 1);
  // Step 5's filter shows a success as one.
  assert.match(t, /"statusText": "success"/);
  assert.match(t, /"failureKind": null/);
  // The check passed (set -e would have stopped on its exit status 1) and its event reached the receiver.
  assert.match(receiver ?? '', /verified msg_\w+ from Hookwarden webhooks .*hookwarden\.check/);
  // The one refusal: the checker's unsigned GET that asks for the server software.
  assert.deepEqual((receiver ?? '').match(/refused .*/g), ['refused HW_SIGNATURE_MISSING']);
  // The gate: it verified the subject from `ca show` and the signature, and the app saw the facts.
  assert.match(gate ?? '', /"decision":"accepted"/);
  assert.match(app ?? '', /POST \/hooks .*"subject":"CN=Hookwarden webhooks,O=Hookwarden"/);
  assert.match(serve ?? '', /hookwarden listening/);
});
