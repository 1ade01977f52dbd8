import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('--help lists every command with its summary and exits 0; each command answers its own --help', () => {
  const help = run('--help');
  assert.equal(help.status, 0, help.stderr);
  const names = ['serve', 'ca', 'check', 'gate', 'send', 'proxy-config'];
  for (const name of names) assert.match(help.stdout, new RegExp(`^  ${name} +\\S.+$`, 'm'));
  for (const name of names) {
    const own = run(name, '--help');
    assert.equal(own.status, 0, `${name}: ${own.stderr}`);
    assert.match(own.stdout, new RegExp(`hookwarden ${name}`), name);
  }
});

test('no command or an unknown one is a usage error (exit 2) that shows the commands', () => {
  const none = run();
  assert.equal(none.status, 2);
  assert.match(none.stdout, /Commands:/);
  const unknown = run('frobnicate');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  assert.match(unknown.stderr, /proxy-config/);
});
