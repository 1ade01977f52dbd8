import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { caBundlePem, createHierarchy, fingerprints, type Hierarchy } from '@hookwarden/pki';
import { tempDir } from '@hookwarden/testkit';

const BIN = resolve(import.meta.dirname, '../bin/hookwarden.js');

describe('hookwarden ca (the real command, in a temporary directory)', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  function ca(...args: string[]) {
    const r = spawnSync(process.execPath, [BIN, 'ca', ...args], { cwd: tmp.path, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test('--help lists every action', () => {
    const r = ca('--help');
    assert.equal(r.code, 0);
    for (const action of ['init', 'show', 'rotate', 'promote', 'export', 'import'])
      assert.match(r.stdout, new RegExp(`  ${action} `));
    assert.equal(ca('init', '--help').code, 0);
  });

  test('init, show, export, rotate, promote in the default directory', () => {
    const init = ca(
      'init',
      '--subject',
      'CN=callbacks.example.com,O=Example\\, Inc.',
      '--dns',
      'callbacks.example.com',
      '--dns',
      'hooks.example.com',
      '--validity-days',
      '30',
    );
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /CN=callbacks\.example\.com,O=Example\\, Inc\./);
    assert.match(init.stdout, /callbacks\.example\.com, hooks\.example\.com/);
    assert.ok(!init.stdout.includes('PRIVATE KEY'));
    assert.match(init.stdout, /hookwarden ca export --bundle/);
    const dir = join(tmp.path, 'hookwarden-data', 'pki');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const keyFile = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).current.files.key;
    assert.equal(statSync(join(dir, keyFile)).mode & 0o777, 0o600);

    const shown = JSON.parse(ca('show', '--json').stdout);
    const cert = ca('export', '--cert').stdout;
    assert.equal(shown.current.fingerprints.sha256, fingerprints(cert).sha256);
    assert.deepEqual(shown.current.dnsNames, ['callbacks.example.com', 'hooks.example.com']);
    assert.equal(shown.next, null);
    assert.ok(!JSON.stringify(shown).includes('PRIVATE KEY'));
    assert.equal(Date.parse(shown.current.notAfter) - Date.parse(shown.current.notBefore) > 29 * 86_400_000, true);

    const chain = ca('export', '--chain').stdout;
    const bundle = ca('export', '--bundle').stdout;
    assert.ok(chain.startsWith(cert));
    assert.equal(chain.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.ok(!bundle.includes(cert));
    assert.match(ca('export', '--key').stdout, /^-----BEGIN PRIVATE KEY-----\n/);

    const notDue = ca('rotate', '--if-expires-within', '7');
    assert.equal(notDue.code, 0, notDue.stderr);
    assert.match(notDue.stdout, /Not due: the current certificate has (29|30) days left/);
    const rotated = ca('rotate', '--if-expires-within', '60');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /next certificate/);
    const next = JSON.parse(ca('show', '--json').stdout).next;
    assert.notEqual(next.fingerprints.sha256, shown.current.fingerprints.sha256);
    assert.equal(fingerprints(ca('export', '--cert', '--next').stdout).sha256, next.fingerprints.sha256);
    const again = ca('rotate');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /HW_PKI_NEXT_EXISTS/);

    assert.equal(ca('promote').code, 0);
    const promoted = JSON.parse(ca('show', '--json').stdout);
    assert.equal(promoted.current.fingerprints.sha256, next.fingerprints.sha256);
    assert.equal(promoted.next, null);
    const none = ca('promote');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /HW_PKI_NO_NEXT/);
  });

  describe('import', () => {
    let h: Hierarchy;
    let other: Hierarchy;
    before(async () => {
      h = await createHierarchy({ subject: 'CN=external.example.com' });
      other = await createHierarchy({ subject: 'CN=other' });
      writeFileSync(join(tmp.path, 'cert.pem'), h.leaf.certPem);
      writeFileSync(join(tmp.path, 'key.pem'), h.leaf.keyPem);
      writeFileSync(join(tmp.path, 'wrong-key.pem'), other.leaf.keyPem);
      writeFileSync(join(tmp.path, 'chain.pem'), caBundlePem(h));
    });

    test('refuses a key that does not match, without printing it', () => {
      const r = ca('import', '--dir', 'ext', '--cert', 'cert.pem', '--key', 'wrong-key.pem', '--chain', 'chain.pem');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /HW_PKI_KEY_MISMATCH/);
      assert.ok(!r.stderr.includes(other.leaf.keyPem.split('\n')[1]!));
    });

    test('imports a valid identity into --dir', () => {
      const r = ca('import', '--dir', 'ext', '--cert', 'cert.pem', '--key', 'key.pem', '--chain', 'chain.pem');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(ca('export', '--dir', 'ext', '--bundle').stdout, caBundlePem(h));
      const rotate = ca('rotate', '--dir', 'ext');
      assert.equal(rotate.code, 1);
      assert.match(rotate.stderr, /HW_PKI_NO_CA/);
      const missing = ca('import', '--dir', 'ext2', '--cert', 'nope.pem', '--key', 'key.pem', '--chain', 'chain.pem');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /--cert: cannot read nope\.pem/);
    });
  });

  test('init refuses a subject it cannot encode before writing any file', () => {
    const subject = 'CN=a,1.2.3.123456789012345678901=foo';
    const r = ca('init', '--dir', 'big-oid', '--subject', subject);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HW_PKI_OPTION_INVALID/);
    assert.ok(r.stderr.includes(`"${subject}"`), r.stderr);
    assert.ok(!existsSync(join(tmp.path, 'big-oid')), 'no key files left behind');
  });

  test('usage errors exit 2 and say what is wrong', () => {
    const cases: [string[], RegExp][] = [
      [['bogus'], /unknown action 'bogus'/],
      [['show', '--frob'], /Unknown option '--frob'/],
      [['export', '--cert', '--key'], /exactly one of/],
      [['init', '--subject', 'CN=x', '--validity-days', 'ten'], /--validity-days/],
      [['init', '--subject', 'CN=x', '--key-type', 'dsa'], /--key-type must be one of/],
      [['show', '--force'], /--force does not apply to ca show/],
      [['import', '--cert', 'cert.pem'], /needs --key FILE/],
    ];
    for (const [args, message] of cases) {
      const r = ca(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
    const noStore = ca('show', '--dir', 'empty');
    assert.equal(noStore.code, 1);
    assert.match(noStore.stderr, /HW_PKI_STORE_MISSING/);
  });
});
