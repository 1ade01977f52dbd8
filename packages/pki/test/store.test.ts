import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { caBundlePem, chainPem, createHierarchy, openPkiStore, type PkiFiles } from '../src/index.ts';

const DAY = 86_400_000;
const START = new Date('2026-01-01T00:00:00Z');

/** A clock the test moves by hand. */
function clock(start: Date) {
  let t = start.getTime();
  return { now: () => new Date(t), advanceDays: (d: number) => (t += d * DAY) };
}

const mode = (p: string) => statSync(p).mode & 0o777;

type SlotFiles = { cert: string; key: string; chain: string; bundle: string };
type Manifest = {
  ca?: Record<string, string>;
  current: { source: string; subject: string; dnsNames: string[]; files: SlotFiles };
  next?: { source: string; subject: string; files: SlotFiles };
};
const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

/** Every file the manifest names, and the manifest: nothing else may be left in the store. */
function referenced(dir: string): string[] {
  const m = manifestOf(dir);
  return [
    'manifest.json',
    ...Object.values(m.ca ?? {}),
    ...Object.values(m.current.files),
    ...Object.values(m.next?.files ?? {}),
  ].sort();
}

/** Whether each certificate of `chain` (leaf first) is issued by the next one, up to `root`. */
function chainsTo(chain: string, root: string): boolean {
  const certs = [...(chain.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g) ?? []), root].map(
    (p) => new X509Certificate(p),
  );
  return certs.slice(1).every((ca, i) => certs[i]!.checkIssued(ca) && certs[i]!.verify(ca.publicKey));
}

/** Makes the `failAt`-th rename from now on throw, as a crash (disk full, kill) at that point would. */
function crashAtRename(failAt: number): () => void {
  const original = fsp.rename;
  let calls = 0;
  fsp.rename = async (from, to) => {
    if (++calls === failAt) throw Object.assign(new Error('ENOSPC: simulated crash'), { code: 'ENOSPC' });
    return original(from, to);
  };
  syncBuiltinESMExports();
  return () => {
    fsp.rename = original;
    syncBuiltinESMExports();
  };
}

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
    assert.deepEqual(readdirSync(dir).sort(), referenced(dir), 'the old current files are removed');
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
    const key = join(dir, manifestOf(dir).current.files.key);
    chmodSync(key, 0o644);
    await assert.rejects(openPkiStore(dir), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HW_PKI_STORE_PERMISSIONS');
      assert.match(err.message, /chmod 600/);
      return true;
    });
    chmodSync(key, 0o600);
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

  test('an imported identity, once promoted, keeps its own subject and is not continued from our CA', async () => {
    const dir = join(tmp.path, 'import-then-rotate');
    const store = await openPkiStore(dir);
    await store.init({ subject: 'CN=ours,O=Ours', dnsNames: ['ours.example.com'] });
    const foreign = await createHierarchy({ subject: 'CN=foreign,O=Foreign', dnsNames: ['foreign.example.com'] });
    await store.import({ ...foreign.leaf, chainPem: caBundlePem(foreign), next: true });
    const promoted = await store.promote();
    assert.equal(promoted.current.subject, 'CN=foreign,O=Foreign');
    // Our intermediate did not issue the current certificate, and receivers only trust the foreign CA.
    await assert.rejects(store.rotate(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HW_PKI_NO_CA');
      assert.match(err.message, /issued by "CN=Foreign Callback Intermediate CA,O=Foreign"/);
      assert.match(err.message, /ca import --next/);
      return true;
    });
    assert.equal(store.identity().next, undefined);
    // The promoted slot's record is the imported certificate's own, not the store's first identity.
    const m = manifestOf(dir);
    assert.deepEqual(
      [m.current.source, m.current.subject, m.current.dnsNames],
      ['imported', 'CN=foreign,O=Foreign', ['foreign.example.com']],
    );
  });

  test('the next slot carries the chain and bundle of the CA that issued it', async () => {
    const dir = join(tmp.path, 'own-bundle');
    const store = await openPkiStore(dir);
    const first = await store.init({ subject: 'CN=ours' });
    const next = (await store.rotate()).next!;
    const root = readFileSync(join(dir, manifestOf(dir).ca!.rootCert!), 'utf8');
    assert.ok(chainsTo(next.chainPem, root));
    const bundle = readFileSync(join(dir, manifestOf(dir).next!.files.bundle), 'utf8');
    assert.equal(bundle, readFileSync(join(dir, manifestOf(dir).ca!.intermediateCert!), 'utf8') + root);
    assert.equal(bundle, first.caBundlePem);
  });

  test('a promote interrupted at any file write leaves the old or the new identity, never a mix', async () => {
    for (let failAt = 1; ; failAt++) {
      const dir = join(tmp.path, `crash-${failAt}`);
      const store = await openPkiStore(dir);
      const before = await store.init({ subject: 'CN=crash' });
      const next = (await store.rotate()).next!;
      const restore = crashAtRename(failAt);
      const done = await store.promote().then(
        () => true,
        (err: Error) => {
          assert.match(err.message, /simulated crash/);
          return false;
        },
      );
      restore();
      const id = (await openPkiStore(dir)).identity();
      assert.ok(new X509Certificate(id.certPem).checkPrivateKey(createPrivateKey(id.keyPem)), `crash at ${failAt}`);
      assert.ok(id.chainPem.startsWith(id.certPem));
      const sha = id.current.fingerprints.sha256;
      assert.equal(sha, done ? next.fingerprints.sha256 : before.current.fingerprints.sha256, `crash at ${failAt}`);
      if (done) break;
      assert.ok(failAt < 10, 'promote never finished');
    }
  });

  test('reload refuses a slot whose key does not belong to its certificate', async () => {
    const dir = join(tmp.path, 'mismatch');
    const store = await openPkiStore(dir);
    await store.init({ subject: 'CN=x' });
    const other = await createHierarchy({ subject: 'CN=other' });
    const keyPem = store.identity().keyPem;
    const key = readdirSync(dir).find((f) => readFileSync(join(dir, f), 'utf8') === keyPem)!;
    writeFileSync(join(dir, key), other.leaf.keyPem, { mode: 0o600 });
    await assert.rejects(openPkiStore(dir), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HW_PKI_STORE_CORRUPT');
      assert.match(
        err.message,
        /current private key \(leaf-[0-9a-f]+-key\.pem\) does not belong to the current certificate/,
      );
      return true;
    });
  });

  test('rotate renews an intermediate that would cut the certificate short, and refuses once the root would', async () => {
    const dir = join(tmp.path, 'renew');
    const c = clock(START);
    const store = await openPkiStore(dir, { now: c.now });
    const first = await store.init({ subject: 'CN=long-lived' });
    const oldIntermediate = readdirSync(dir).find((f) => f.startsWith('intermediate') && !f.endsWith('key.pem'))!;
    c.advanceDays(1800); // the intermediate (1825 days) has 25 left
    const rotated = await store.rotate({ validityDays: 365 });
    assert.equal(rotated.next!.notAfter.getTime(), c.now().getTime() + 365 * DAY, 'the full validity asked');
    assert.notEqual(manifestOf(dir).ca!.intermediateCert, oldIntermediate);
    assert.ok(!readdirSync(dir).includes(oldIntermediate));
    const root = readFileSync(join(dir, manifestOf(dir).ca!.rootCert!), 'utf8');
    assert.ok(chainsTo(rotated.next!.chainPem, root), 'next chain: leaf, new intermediate, our root');
    // During the overlap receivers trust both intermediates (same subject, told apart by key id).
    assert.equal(rotated.caBundlePem.match(/BEGIN CERTIFICATE/g)?.length, 3);
    assert.ok(rotated.caBundlePem.startsWith(first.caBundlePem));
    const promoted = await store.promote();
    assert.equal(promoted.caBundlePem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.ok(chainsTo(promoted.chainPem, root));

    c.advanceDays(1700); // the root (3650 days) now ends before another 365 days
    await assert.rejects(store.rotate({ validityDays: 365 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HW_PKI_CA_EXPIRING');
      assert.match(err.message, /root CA "CN=Hookwarden Callback Root CA" on 2035-12-30/);
      assert.match(err.message, /--validity-days 150 or fewer/);
      return true;
    });
  });

  test('rotate checks every option even when it is not due', async () => {
    const store = await openPkiStore(join(tmp.path, 'not-due'));
    await store.init({ subject: 'CN=x' });
    for (const bad of [{ keyType: 'dsa-1024' as never }, { validityDays: -5 }, { force: 'yes' as never }]) {
      await assert.rejects(store.rotate({ ifExpiresWithinDays: 30, ...bad }), { code: 'HW_PKI_OPTION_INVALID' });
    }
    assert.equal((await store.rotate({ ifExpiresWithinDays: 30 })).next, undefined);
  });

  test('a store in the version 1 layout opens, and is continued from its CA', async () => {
    const dir = join(tmp.path, 'v1');
    mkdirSync(dir, { mode: 0o700 });
    const h = await createHierarchy({ subject: 'CN=v1,O=Old', dnsNames: ['v1.example.com'] });
    const files: Record<string, [string, number]> = {
      'root.pem': [h.root.certPem, 0o644],
      'root-key.pem': [h.root.keyPem, 0o600],
      'intermediate.pem': [h.intermediate.certPem, 0o644],
      'intermediate-key.pem': [h.intermediate.keyPem, 0o600],
      'current-cert.pem': [h.leaf.certPem, 0o644],
      'current-key.pem': [h.leaf.keyPem, 0o600],
      'current-chain.pem': [chainPem(h), 0o644],
      'current-bundle.pem': [caBundlePem(h), 0o644],
    };
    for (const [name, [text, m]] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: m });
    const v1 = { version: 1, source: 'issued', subject: 'CN=v1,O=Old', dnsNames: ['v1.example.com'] };
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({ ...v1, keyType: 'ec-p256', validityDays: 365, hasNext: false }),
    );
    const store = await openPkiStore(dir);
    assert.equal(store.identity().certPem, h.leaf.certPem);
    const next = (await store.rotate()).next!;
    assert.equal(next.subject, 'CN=v1,O=Old');
    assert.deepEqual(next.dnsNames, ['v1.example.com']);
    assert.ok(chainsTo(next.chainPem, h.root.certPem));
    await store.promote();
    assert.deepEqual(readdirSync(dir).sort(), referenced(dir));
    assert.ok(!readdirSync(dir).includes('current-key.pem'));
  });
});

/**
 * Files kept in a Map, as a database keeps them: a write replaces one text whole, or fails.
 * `crashAtWrite(n)` makes the n-th write from then on fail, as a crash at that point would.
 */
function memoryFiles() {
  const texts = new Map<string, { text: string; secret: boolean }>();
  let writesLeft = Number.POSITIVE_INFINITY;
  const files: PkiFiles = {
    location: 'memory',
    check: async () => true,
    read: async (name) => texts.get(name)?.text,
    async write(name, text, opts) {
      if (--writesLeft === 0) throw new Error('simulated crash');
      texts.set(name, { text, secret: opts.secret });
    },
    list: async () => [...texts.keys()],
    remove: async (name) => {
      texts.delete(name);
    },
    prepare: async () => {},
  };
  return { files, texts, crashAtWrite: (n: number) => (writesLeft = n) };
}

describe('PkiStore over another place of files', () => {
  test('keeps the whole identity there, private keys marked secret, and removes what no manifest names', async () => {
    const { files, texts } = memoryFiles();
    const store = await openPkiStore(files, { now: () => START });
    assert.equal(store.exists(), false);
    assert.equal(store.dir, 'memory');
    const first = await store.init({ subject: 'CN=db', validityDays: 30 });
    const rotated = await store.rotate();
    const promoted = await store.promote();
    assert.equal(promoted.current.fingerprints.sha256, rotated.next?.fingerprints.sha256);
    const other = await openPkiStore(files, { now: () => START });
    assert.equal(other.identity().keyPem, promoted.keyPem, 'a second reader sees the same identity');
    for (const [name, { text, secret }] of texts) {
      assert.equal(secret, text.includes('PRIVATE KEY'), `${name} is secret exactly when it holds a key`);
    }
    assert.ok(![...texts.values()].some((t) => t.text === first.keyPem), 'the promoted-over key is gone');
  });

  test('a rotate interrupted at any write leaves the old identity or the new one', async () => {
    for (let n = 1; ; n++) {
      const { files, crashAtWrite } = memoryFiles();
      const store = await openPkiStore(files, { now: () => START });
      const before = await store.init({ subject: 'CN=db' });
      crashAtWrite(n);
      const done = await store.rotate().then(
        () => true,
        (err: Error) => {
          assert.match(err.message, /simulated crash/);
          return false;
        },
      );
      const id = (await openPkiStore(files, { now: () => START })).identity();
      assert.equal(id.current.fingerprints.sha256, before.current.fingerprints.sha256);
      assert.equal(id.next !== undefined, done, `interrupted at write ${n}`);
      if (done) {
        assert.equal(n, 6, 'a rotate writes the four files of its slot, then the manifest');
        break;
      }
      assert.ok(n < 10, 'rotate never finished');
    }
  });
});

test('two processes creating one store at once: one wins, the other is told and both then read the winner', async () => {
  const tmp = tempDir();
  try {
    const dir = join(tmp.path, 'race');
    const [a, b] = await Promise.all([openPkiStore(dir), openPkiStore(dir)]);
    const results = await Promise.allSettled([a.init({ subject: 'CN=a' }), b.init({ subject: 'CN=b' })]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, 'exactly one creates the store');
    assert.equal((lost[0] as PromiseRejectedResult).reason.code, 'HW_PKI_STORE_EXISTS');
    const winner = (won[0] as PromiseFulfilledResult<{ current: { subject: string } }>).value;
    for (const s of [a, b]) {
      await s.reload();
      assert.equal(s.identity().current.subject, winner.current.subject);
    }
    const id = (await openPkiStore(dir)).identity();
    assert.ok(new X509Certificate(id.certPem).checkPrivateKey(createPrivateKey(id.keyPem)));
    assert.ok(chainsTo(id.chainPem, readFileSync(join(dir, manifestOf(dir).ca!.rootCert!), 'utf8')), 'its own root');
  } finally {
    tmp.cleanup();
  }
});
