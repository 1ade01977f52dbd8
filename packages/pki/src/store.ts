import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CertificateInfo, describeCertificate } from './describe.ts';
import { optionError, PKI_CODES, PkiError } from './errors.ts';
import { createHierarchy, issueCertificate } from './issue.ts';
import type { KeyType } from './keys.ts';
import { checkDays, checkDnsNames, checkKeyType, checkNow, checkObject } from './options.ts';
import { certificateDers, derToPem } from './pem.ts';
import { validateIdentity } from './validate.ts';

/**
 * The platform's client identity on disk: a directory (0700) of PEM files and a small JSON manifest.
 * Key files are 0600 and are refused when anyone else can read them. Writes go to a temporary file
 * and are renamed into place, and the manifest is written last, so a crash never leaves a manifest
 * that points at half-written files.
 *
 *   manifest.json              what is where, how it was made
 *   root.pem / root-key.pem    our CA (only when we issued; imported identities have no CA key)
 *   intermediate.pem / intermediate-key.pem
 *   current-cert.pem / current-key.pem / current-chain.pem / current-bundle.pem
 *   next-cert.pem / next-key.pem / next-chain.pem / next-bundle.pem   (during a rotation)
 */

export interface Identity {
  certPem: string;
  keyPem: string;
  /** Leaf + intermediates: what the dispatcher presents. */
  chainPem: string;
  /** Every CA receivers must trust now: the current bundle, plus the next one's during a rotation. */
  caBundlePem: string;
  current: CertificateInfo;
  next?: CertificateInfo & { certPem: string; keyPem: string; chainPem: string };
}

export interface InitOptions {
  subject: string;
  dnsNames?: string[];
  keyType?: KeyType;
  validityDays?: number;
  rootSubject?: string;
  intermediateSubject?: string;
}

export interface RotateOptions {
  validityDays?: number;
  keyType?: KeyType;
  /** Replace an existing `next` that was never promoted (receivers may have pinned it). */
  force?: boolean;
  /**
   * Only rotate when the current certificate expires within this many days, and do nothing while a
   * next certificate is waiting: makes `rotate` safe to run from a daily scheduler.
   */
  ifExpiresWithinDays?: number;
}

interface Manifest {
  version: 1;
  source: 'issued' | 'imported';
  subject: string;
  dnsNames: string[];
  keyType: KeyType;
  validityDays: number;
  hasNext: boolean;
  updatedAt: string;
}

export interface PkiStore {
  readonly dir: string;
  exists(): boolean;
  init(opts: InitOptions): Promise<Identity>;
  import(input: { certPem: string; keyPem: string; chainPem: string; next?: boolean }): Promise<Identity>;
  rotate(opts?: RotateOptions): Promise<Identity>;
  promote(): Promise<Identity>;
  identity(): Identity;
  /** Re-reads the directory (another process, e.g. `hookwarden ca rotate`, may have changed it). */
  reload(): Promise<void>;
}

interface Slot {
  certPem: string;
  keyPem: string;
  chainPem: string;
  bundlePem: string;
}

const MANIFEST = 'manifest.json';

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode, flag: 'wx' });
  await chmod(tmp, mode); // the umask may have narrowed or not; be exact
  await rename(tmp, path);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function bundleUnion(...bundles: (string | undefined)[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const bundle of bundles) {
    if (!bundle) continue;
    for (const der of certificateDers(bundle)) {
      const key = der.toString('base64');
      if (!seen.has(key)) {
        seen.add(key);
        out.push(derToPem(der));
      }
    }
  }
  return out.join('');
}

class DirectoryStore implements PkiStore {
  private manifest: Manifest | undefined;
  private current: Slot | undefined;
  private next: Slot | undefined;
  // identity() is called per delivery attempt: describe the certificates once per change, not per call.
  private cached: Identity | undefined;
  private cachedCurrent: Slot | undefined;
  private cachedNext: Slot | undefined;

  constructor(
    readonly dir: string,
    private readonly now: () => Date,
  ) {}

  exists(): boolean {
    return this.manifest !== undefined;
  }

  private path(file: string): string {
    return join(this.dir, file);
  }

  private async checkKeyMode(file: string): Promise<void> {
    const st = await stat(this.path(file));
    if (st.mode & 0o077) {
      throw new PkiError(
        PKI_CODES.STORE_PERMISSIONS,
        `${this.path(file)} is readable by others (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 on it`,
      );
    }
  }

  async reload(): Promise<void> {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(this.dir);
    } catch (err) {
      this.manifest = this.current = this.next = undefined;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new PkiError(PKI_CODES.STORE_PERMISSIONS, `cannot read ${this.dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (st.mode & 0o077) {
      throw new PkiError(
        PKI_CODES.STORE_PERMISSIONS,
        `${this.dir} is open to others (mode ${(st.mode & 0o777).toString(8)}): run chmod 700 on it`,
      );
    }
    const text = await readText(this.path(MANIFEST));
    if (text === undefined) {
      this.manifest = this.current = this.next = undefined;
      return;
    }
    try {
      const m = JSON.parse(text) as Manifest;
      if (m.version !== 1 || (m.source !== 'issued' && m.source !== 'imported')) throw new Error('unknown manifest');
      this.manifest = m;
      this.current = await this.readSlot('current');
      this.next = m.hasNext ? await this.readSlot('next') : undefined;
      describeCertificate(this.current.certPem);
      if (this.next) describeCertificate(this.next.certPem);
    } catch (cause) {
      if (cause instanceof PkiError && cause.code === PKI_CODES.STORE_PERMISSIONS) throw cause;
      this.manifest = this.current = this.next = undefined;
      throw new PkiError(
        PKI_CODES.STORE_CORRUPT,
        `${this.dir} holds an unreadable PKI store (${(cause as Error).message}): restore it from backup or move it away and run ca init`,
        { cause },
      );
    }
  }

  private async readSlot(slot: 'current' | 'next'): Promise<Slot> {
    const files = ['cert', 'key', 'chain', 'bundle'].map((f) => `${slot}-${f}.pem`);
    await this.checkKeyMode(files[1]!);
    const [certPem, keyPem, chainPem, bundlePem] = await Promise.all(files.map((f) => readText(this.path(f))));
    if (!certPem || !keyPem || !chainPem || !bundlePem) throw new Error(`missing ${slot} files`);
    return { certPem, keyPem, chainPem, bundlePem };
  }

  private async writeSlot(slot: 'current' | 'next', s: Slot): Promise<void> {
    await writeAtomic(this.path(`${slot}-key.pem`), s.keyPem, 0o600);
    await writeAtomic(this.path(`${slot}-cert.pem`), s.certPem, 0o644);
    await writeAtomic(this.path(`${slot}-chain.pem`), s.chainPem, 0o644);
    await writeAtomic(this.path(`${slot}-bundle.pem`), s.bundlePem, 0o644);
  }

  private async writeManifest(m: Omit<Manifest, 'version' | 'updatedAt'>): Promise<void> {
    const manifest: Manifest = { version: 1, ...m, updatedAt: this.now().toISOString() };
    await writeAtomic(this.path(MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
    this.manifest = manifest;
  }

  private async prepareDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
  }

  private requireStore(): Manifest {
    if (!this.manifest || !this.current) {
      throw new PkiError(
        PKI_CODES.STORE_MISSING,
        `no PKI store in ${this.dir}: run hookwarden ca init (or ca import) first`,
      );
    }
    return this.manifest;
  }

  async init(opts: InitOptions): Promise<Identity> {
    const o = checkObject(opts, 'options');
    if (this.manifest) {
      throw new PkiError(
        PKI_CODES.STORE_EXISTS,
        `${this.dir} already holds a PKI store: use ca rotate, or another --dir`,
      );
    }
    const keyType = checkKeyType(o.keyType);
    const validityDays = checkDays(o.validityDays, 365);
    const dnsNames = checkDnsNames(o.dnsNames, false);
    const h = await createHierarchy({ ...opts, keyType, validityDays, dnsNames, now: this.now });
    await this.prepareDir();
    await writeAtomic(this.path('root-key.pem'), h.root.keyPem, 0o600);
    await writeAtomic(this.path('root.pem'), h.root.certPem, 0o644);
    await writeAtomic(this.path('intermediate-key.pem'), h.intermediate.keyPem, 0o600);
    await writeAtomic(this.path('intermediate.pem'), h.intermediate.certPem, 0o644);
    const current = {
      certPem: h.leaf.certPem,
      keyPem: h.leaf.keyPem,
      chainPem: h.leaf.certPem + h.intermediate.certPem,
      bundlePem: h.intermediate.certPem + h.root.certPem,
    };
    await this.writeSlot('current', current);
    this.current = current;
    this.next = undefined;
    await this.writeManifest({
      source: 'issued',
      subject: describeCertificate(h.leaf.certPem).subject,
      dnsNames,
      keyType,
      validityDays,
      hasNext: false,
    });
    return this.identity();
  }

  async import(input: { certPem: string; keyPem: string; chainPem: string; next?: boolean }): Promise<Identity> {
    const o = checkObject(input, 'import');
    for (const field of ['certPem', 'keyPem', 'chainPem']) {
      if (typeof o[field] !== 'string') throw optionError(field, 'PEM text required');
    }
    const asNext = o.next === true;
    if (asNext) this.requireStore();
    else if (this.manifest) {
      throw new PkiError(
        PKI_CODES.STORE_EXISTS,
        `${this.dir} already holds a PKI store: import the new certificate as the next one (ca import --next), or use another --dir`,
      );
    }
    const valid = validateIdentity(input, this.now());
    const info = describeCertificate(valid.certPem);
    const slot = {
      certPem: valid.certPem,
      keyPem: valid.keyPem,
      chainPem: valid.chainPem,
      bundlePem: valid.caBundlePem,
    };
    await this.prepareDir();
    if (asNext) {
      await this.writeSlot('next', slot);
      this.next = slot;
      await this.writeManifest({ ...this.manifest!, hasNext: true });
    } else {
      await this.writeSlot('current', slot);
      this.current = slot;
      this.next = undefined;
      await this.writeManifest({
        source: 'imported',
        subject: info.subject,
        dnsNames: info.dnsNames,
        keyType: (['ec-p256', 'rsa-2048', 'rsa-3072', 'rsa-4096'].includes(info.keyType)
          ? info.keyType
          : 'ec-p256') as KeyType,
        validityDays: Math.max(1, Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000)),
        hasNext: false,
      });
    }
    return this.identity();
  }

  async rotate(opts: RotateOptions = {}): Promise<Identity> {
    const o = checkObject(opts, 'options');
    const m = this.requireStore();
    if (o.ifExpiresWithinDays !== undefined) {
      const within = checkDays(o.ifExpiresWithinDays, 0, 'ifExpiresWithinDays');
      if (o.force === true) throw optionError('force', 'cannot be combined with ifExpiresWithinDays');
      const current = describeCertificate(this.current!.certPem);
      if (this.next || current.notAfter.getTime() - this.now().getTime() > within * 86_400_000) return this.identity();
    }
    if (this.next && o.force !== true) {
      const fp = describeCertificate(this.next.certPem).fingerprints.sha256;
      throw new PkiError(
        PKI_CODES.NEXT_EXISTS,
        `a next certificate (SHA-256 ${fp}) is already waiting; receivers may have pinned it: promote it, or rotate with --force to replace it`,
      );
    }
    if (m.source !== 'issued') {
      throw new PkiError(
        PKI_CODES.NO_CA,
        'this identity was imported, so there is no CA key to issue with: have your CA issue the next certificate and run ca import --next',
      );
    }
    const keyType = checkKeyType(o.keyType ?? m.keyType);
    const validityDays = checkDays(o.validityDays, m.validityDays);
    const [intermediateCert, intermediateKey] = await Promise.all([
      readText(this.path('intermediate.pem')),
      this.checkKeyMode('intermediate-key.pem').then(() => readText(this.path('intermediate-key.pem'))),
    ]);
    if (!intermediateCert || !intermediateKey) {
      throw new PkiError(PKI_CODES.STORE_CORRUPT, `${this.dir} lacks intermediate.pem or intermediate-key.pem`);
    }
    // Issued now, valid at once: it overlaps the current certificate until that one expires, so
    // receivers can trust and pin both before the switch.
    const leaf = await issueCertificate(
      { certPem: intermediateCert, keyPem: intermediateKey },
      { subject: m.subject, dnsNames: m.dnsNames, keyType, validityDays, now: this.now },
    );
    const slot = {
      certPem: leaf.certPem,
      keyPem: leaf.keyPem,
      chainPem: leaf.certPem + intermediateCert,
      bundlePem: this.current!.bundlePem,
    };
    await this.writeSlot('next', slot);
    this.next = slot;
    await this.writeManifest({ ...m, keyType, validityDays, hasNext: true });
    return this.identity();
  }

  async promote(): Promise<Identity> {
    const m = this.requireStore();
    if (!this.next) {
      throw new PkiError(
        PKI_CODES.NO_NEXT,
        'there is no next certificate to promote: run ca rotate (or ca import --next) first',
      );
    }
    const info = describeCertificate(this.next.certPem);
    const now = this.now();
    if (now < info.notBefore) {
      throw new PkiError(
        PKI_CODES.CERT_NOT_YET_VALID,
        `the next certificate is not valid before ${info.notBefore.toISOString()}: promote it after that`,
      );
    }
    if (now > info.notAfter) {
      throw new PkiError(
        PKI_CODES.CERT_EXPIRED,
        'the next certificate has expired: run ca rotate --force for a new one',
      );
    }
    await this.writeSlot('current', this.next);
    this.current = this.next;
    this.next = undefined;
    await this.writeManifest({ ...m, hasNext: false });
    await Promise.all(['cert', 'key', 'chain', 'bundle'].map((f) => rm(this.path(`next-${f}.pem`), { force: true })));
    return this.identity();
  }

  identity(): Identity {
    this.requireStore();
    const current = this.current!;
    const next = this.next;
    if (this.cached && this.cachedCurrent === current && this.cachedNext === next) return this.cached;
    this.cachedCurrent = current;
    this.cachedNext = next;
    this.cached = Object.freeze({
      certPem: current.certPem,
      keyPem: current.keyPem,
      chainPem: current.chainPem,
      caBundlePem: bundleUnion(current.bundlePem, next?.bundlePem),
      current: describeCertificate(current.certPem),
      ...(next
        ? {
            next: {
              ...describeCertificate(next.certPem),
              certPem: next.certPem,
              keyPem: next.keyPem,
              chainPem: next.chainPem,
            },
          }
        : {}),
    });
    return this.cached;
  }
}

/** Opens (without creating) the store in `dir`; `init` or `import` create it. */
export async function openPkiStore(dir: string, opts: { now?: () => Date } = {}): Promise<PkiStore> {
  if (typeof dir !== 'string' || dir === '') throw optionError('dir', 'a directory path is required');
  const store = new DirectoryStore(dir, checkNow(checkObject(opts, 'options').now));
  await store.reload();
  return store;
}
