import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { caBundlePem, createHierarchy, openPkiStore } from '../src/index.ts';

const DAY = 86_400_000;
const START = new Date('2026-01-01T00:00:00Z');

/** A clock the test moves by hand. */
function clock(start: Date) {
  let t = start.getTime();
  return { now: () => new Date(t), advanceDays: (d: number) => (t += d * DAY) };
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe('PkiStore', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  test('init, rotate with overlap, promote, reopen', async () => {
    const dir = join(tmp.path, 'issued', 'pki');
    const c = clock(START);
    const store = await openPkiStore(dir, { now: c.now });
    assert.equal(store.exists(), false);
    assert.throws(() => store.identity(), { code: 'HW_PKI_STORE_MISSING' });

    const first = await store.init({
      subject: 'CN=callbacks.example.com,O=Example',
      dnsNames: ['callbacks.example.com'],
      validityDays: 90,
    });
    assert.equal(store.exists(), true);
    assert.equal(first.current.subject, 'CN=callbacks.example.com,O=Example');
    assert.deepEqual(first.current.dnsNames, ['callbacks.example.com']);
    assert.equal(first.current.notAfter.getTime(), START.getTime() + 90 * DAY);
    assert.equal(first.next, undefined);
    assert.ok(first.chainPem.startsWith(first.certPem));
    assert.equal(first.caBundlePem.match(/BEGIN CERTIFICATE/g)?.length, 2);

    assert.equal(mode(dir), 0o700);
    for (const f of readdirSync(dir)) {
      assert.equal(mode(join(dir, f)), f.endsWith('key.pem') ? 0o600 : 0o644, f);
    }
    const manifest = readFileSync(join(dir, 'manifest.json'), 'utf8');
    assert.ok(!manifest.includes('PRIVATE'));
    await assert.rejects(store.init({ subject: 'CN=x' }), { code: 'HW_PKI_STORE_EXISTS' });
    await assert.rejects(store.promote(), { code: 'HW_PKI_NO_NEXT' });

    // A scheduler's rotate is a no-op until the current certificate nears its end.
    c.advanceDays(50);
    assert.equal((await store.rotate({ ifExpiresWithinDays: 30 })).next, undefined);
    await assert.rejects(store.rotate({ ifExpiresWithinDays: 30, force: true }), { code: 'HW_PKI_OPTION_INVALID' });
    c.advanceDays(25);
    const rotating = await store.rotate({ ifExpiresWithinDays: 30 });
    assert.ok(rotating.next);
    assert.equal(rotating.certPem, first.certPem, 'the current certificate stays in use until promoted');
    assert.notEqual(rotating.next.fingerprints.sha256, rotating.current.fingerprints.sha256);
    assert.equal(rotating.next.subject, first.current.subject);
    assert.deepEqual(rotating.next.dnsNames, ['callbacks.example.com']);
    assert.ok(rotating.next.notBefore <= c.now() && rotating.next.notBefore < rotating.current.notAfter, 'overlap');
    assert.equal(rotating.next.notAfter.getTime(), c.now().getTime() + 90 * DAY);
    assert.equal(rotating.caBundlePem, first.caBundlePem);
    await assert.rejects(store.rotate(), { code: 'HW_PKI_NEXT_EXISTS' });
    assert.equal((await store.rotate({ ifExpiresWithinDays: 30 })).next?.certPem, rotating.next.certPem);

    // Another process sees the same state.
    const again = await openPkiStore(dir, { now: c.now });
    assert.equal(again.identity().next?.fingerprints.sha256, rotating.next.fingerprints.sha256);

    assert.equal(store.identity(), store.identity(), 'described once per change');
    assert.ok(Object.isFrozen(store.identity()));
    const promoted = await store.promote();
    assert.equal(promoted.current.fingerprints.sha256, rotating.next.fingerprints.sha256);
    assert.equal(promoted.keyPem, rotating.next.keyPem);
    assert.equal(promoted.next, undefined);
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('next-')));
    await again.reload();
    assert.equal(again.identity().current.fingerprints.sha256, promoted.current.fingerprints.sha256);

    const forced = await store.rotate({ validityDays: 30 });
    const replaced = await store.rotate({ force: true, validityDays: 30 });
    assert.notEqual(forced.next?.fingerprints.sha256, replaced.next?.fingerprints.sha256);
  });

  test('imported identities: validated, no CA key, next imported alongside', async () => {
    const dir = join(tmp.path, 'imported');
    const c = clock(START);
    const a = await createHierarchy({ subject: 'CN=hooks.example.com', now: c.now, validityDays: 60 });
    const b = await createHierarchy({ subject: 'CN=hooks.example.com', now: c.now, rootSubject: 'CN=New Root' });
    const store = await openPkiStore(dir, { now: c.now });
    await assert.rejects(store.import({ certPem: a.leaf.certPem, keyPem: b.leaf.keyPem, chainPem: caBundlePem(a) }), {
      code: 'HW_PKI_KEY_MISMATCH',
    });
    assert.equal(store.exists(), false);
    const id = await store.import({ certPem: a.leaf.certPem, keyPem: a.leaf.keyPem, chainPem: caBundlePem(a) });
    assert.equal(id.caBundlePem, caBundlePem(a));
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('root') || f.startsWith('intermediate')));
    await assert.rejects(store.rotate(), { code: 'HW_PKI_NO_CA' });
    await assert.rejects(store.import({ certPem: b.leaf.certPem, keyPem: b.leaf.keyPem, chainPem: caBundlePem(b) }), {
      code: 'HW_PKI_STORE_EXISTS',
    });
    const both = await store.import({
      certPem: b.leaf.certPem,
      keyPem: b.leaf.keyPem,
      chainPem: caBundlePem(b),
      next: true,
    });
    // During the overlap receivers must trust both CAs.
    assert.equal(both.caBundlePem, caBundlePem(a) + caBundlePem(b));
    const after = await store.promote();
    assert.equal(after.caBundlePem, caBundlePem(b));
    assert.equal(after.certPem, b.leaf.certPem);
  });

  test('refuses key files others can read, and corrupt manifests', async () => {
    const dir = join(tmp.path, 'perms');
    const store = await openPkiStore(dir);
    await store.init({ subject: 'CN=x' });
    chmodSync(join(dir, 'current-key.pem'), 0o644);
    await assert.rejects(openPkiStore(dir), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HW_PKI_STORE_PERMISSIONS');
      assert.match(err.message, /chmod 600/);
      return true;
    });
    chmodSync(join(dir, 'current-key.pem'), 0o600);
    chmodSync(dir, 0o755);
    await assert.rejects(openPkiStore(dir), { code: 'HW_PKI_STORE_PERMISSIONS' });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'manifest.json'), '{"version": 9');
    await assert.rejects(openPkiStore(dir), { code: 'HW_PKI_STORE_CORRUPT' });
  });

  test('promote refuses an expired next certificate', async () => {
    const c = clock(START);
    const store = await openPkiStore(join(tmp.path, 'late'), { now: c.now });
    await store.init({ subject: 'CN=x', validityDays: 10 });
    await store.rotate();
    c.advanceDays(11);
    await assert.rejects(store.promote(), { code: 'HW_PKI_CERT_EXPIRED' });
  });
});
