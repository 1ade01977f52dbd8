import { randomBytes } from 'node:crypto';
import { HookwardenError } from '@hookwarden/verify/errors';
import { type CertificateInfo, describeCertificate } from './describe.ts';
import { optionError, PKI_CODES, PkiError } from './errors.ts';
import { directoryFiles, type PkiFiles } from './files.ts';
import { type CertKey, createHierarchy, issueCertificate } from './issue.ts';
import { KEY_TYPES, type KeyType, readPrivateKey } from './keys.ts';
import { parseSubject } from './name.ts';
import { checkDays, checkDnsNames, checkKeyType, checkNow, checkObject } from './options.ts';
import { certificateDers, derToPem, toX509, toX509s } from './pem.ts';
import { validateIdentity } from './validate.ts';

/**
 * The platform's client identity as PEM files and a small JSON manifest, in a directory (0700; key
 * files 0600, refused when anyone else can read them) or another place of files (files.ts):
 *
 *   manifest.json                       which files make up each slot, and how they were made
 *   root-<id>.pem / root-<id>-key.pem   our CA (only when we issued; imported identities have no CA key)
 *   intermediate-<id>.pem / intermediate-<id>-key.pem
 *   leaf-<id>-cert.pem / -key.pem / -chain.pem / -bundle.pem     one set per slot (current, next)
 *
 * Files are never rewritten in place: each certificate gets its own set under a fresh id, and the
 * manifest, written last through a rename, is the one switch between the old state and the new.
 * A crash therefore leaves either the old manifest (and some unreferenced files, removed by the next
 * write) or the new one, never a slot whose key belongs to another certificate. Files the manifest
 * no longer names are removed after it is written.
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

export interface PkiStore {
  /** Where the files are: the directory, or a description such as "the database". */
  readonly dir: string;
  exists(): boolean;
  init(opts: InitOptions): Promise<Identity>;
  import(input: { certPem: string; keyPem: string; chainPem: string; next?: boolean }): Promise<Identity>;
  rotate(opts?: RotateOptions): Promise<Identity>;
  promote(): Promise<Identity>;
  identity(): Identity;
  /** Re-reads the files (another process, e.g. `hookwarden ca rotate`, may have changed them). */
  reload(): Promise<void>;
}

interface Slot {
  certPem: string;
  keyPem: string;
  chainPem: string;
  bundlePem: string;
}

/** One certificate set: what it is (for rotate) and which files hold it. */
interface SlotRecord {
  /** 'issued' by our CA (rotate can continue it) or 'imported' from another. */
  source: 'issued' | 'imported';
  subject: string;
  dnsNames: string[];
  files: SlotFiles;
}

interface SlotFiles {
  cert: string;
  key: string;
  chain: string;
  bundle: string;
}

interface CaFiles {
  rootCert: string;
  rootKey: string;
  intermediateCert: string;
  intermediateKey: string;
}

interface Manifest {
  version: 2;
  /** Our CA's files; absent when the store was created by import. */
  ca?: CaFiles;
  /** Defaults of the next rotate: what the last certificate was issued with. */
  keyType: KeyType;
  validityDays: number;
  current: SlotRecord;
  next?: SlotRecord;
  updatedAt: string;
}

type ManifestBody = Omit<Manifest, 'version' | 'updatedAt'>;

/** The layout before per-slot records: fixed file names, one source/subject for the whole store. */
interface ManifestV1 {
  version: 1;
  source: 'issued' | 'imported';
  keyType: KeyType;
  validityDays: number;
  hasNext: boolean;
}

const MANIFEST = 'manifest.json';
const SECRET = { secret: true };
const PUBLIC = { secret: false };
const DAY_MS = 86_400_000;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.pem$/;
const V1_CA: CaFiles = {
  rootCert: 'root.pem',
  rootKey: 'root-key.pem',
  intermediateCert: 'intermediate.pem',
  intermediateKey: 'intermediate-key.pem',
};

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

/** A slot's four file names: `<prefix>-cert.pem`, `-key.pem`, `-chain.pem`, `-bundle.pem`. */
function slotFiles(prefix: string): SlotFiles {
  return {
    cert: `${prefix}-cert.pem`,
    key: `${prefix}-key.pem`,
    chain: `${prefix}-chain.pem`,
    bundle: `${prefix}-bundle.pem`,
  };
}

/** A certificate we issued, as a slot: presented with its intermediate, trusted through both CAs. */
function issuedSlot(leaf: CertKey, intermediate: CertKey, root: { certPem: string }): Slot {
  return {
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    chainPem: leaf.certPem + intermediate.certPem,
    bundlePem: intermediate.certPem + root.certPem,
  };
}

function placeFailure(err: unknown): boolean {
  if (err instanceof PkiError)
    return err.code === PKI_CODES.STORE_PERMISSIONS || err.code === PKI_CODES.STORE_UNAVAILABLE;
  return err instanceof HookwardenError;
}

function newId(): string {
  return randomBytes(6).toString('hex');
}

/** Whether `chainPem` (leaf, intermediates) leads up to `rootPem`, link by link. */
function chainsTo(chainPem: string, rootPem: string): boolean {
  const certs = [...toX509s(chainPem, 'chain'), toX509(rootPem, 'root certificate')];
  return certs.slice(1).every((ca, i) => certs[i]!.checkIssued(ca) && certs[i]!.verify(ca.publicKey));
}

function fileName(v: unknown): string {
  if (typeof v !== 'string' || !FILE_NAME.test(v)) throw new Error(`bad file name ${JSON.stringify(v)}`);
  return v;
}

function checkSlotRecord(v: unknown, slot: string): SlotRecord {
  const r = v as SlotRecord;
  if (typeof r !== 'object' || r === null) throw new Error(`no ${slot} slot`);
  if (r.source !== 'issued' && r.source !== 'imported') throw new Error(`bad ${slot} source`);
  if (typeof r.subject !== 'string' || !Array.isArray(r.dnsNames)) throw new Error(`bad ${slot} subject`);
  const f = r.files ?? ({} as SlotFiles);
  return {
    source: r.source,
    subject: r.subject,
    dnsNames: r.dnsNames.map(String),
    files: { cert: fileName(f.cert), key: fileName(f.key), chain: fileName(f.chain), bundle: fileName(f.bundle) },
  };
}

/** A version 2 manifest as read from disk, checked field by field; throws plain Errors (made STORE_CORRUPT). */
function checkManifest(raw: Record<string, unknown>): Manifest {
  const ca = raw.ca as CaFiles | undefined;
  if (!(KEY_TYPES as readonly unknown[]).includes(raw.keyType)) throw new Error('bad keyType');
  return {
    version: 2,
    ...(ca === undefined
      ? {}
      : {
          ca: {
            rootCert: fileName(ca.rootCert),
            rootKey: fileName(ca.rootKey),
            intermediateCert: fileName(ca.intermediateCert),
            intermediateKey: fileName(ca.intermediateKey),
          },
        }),
    keyType: raw.keyType as KeyType,
    validityDays: checkDays(raw.validityDays, 365),
    current: checkSlotRecord(raw.current, 'current'),
    ...(raw.next === undefined ? {} : { next: checkSlotRecord(raw.next, 'next') }),
    updatedAt: String(raw.updatedAt),
  };
}

class FileStore implements PkiStore {
  private manifest: Manifest | undefined;
  private current: Slot | undefined;
  private next: Slot | undefined;
  // identity() is called per delivery attempt: describe the certificates once per change, not per call.
  private cached: Identity | undefined;
  private cachedCurrent: Slot | undefined;
  private cachedNext: Slot | undefined;

  readonly dir: string;

  constructor(
    private readonly files: PkiFiles,
    private readonly now: () => Date,
  ) {
    this.dir = files.location;
  }

  exists(): boolean {
    return this.manifest !== undefined;
  }

  private forget(): void {
    this.manifest = this.current = this.next = undefined;
  }

  async reload(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.files.check();
    } catch (err) {
      this.forget();
      throw err;
    }
    if (!exists) return this.forget();
    for (let attempt = 1; ; attempt++) {
      const text = await this.files.read(MANIFEST);
      if (text === undefined) return this.forget();
      try {
        const m = await this.parseManifest(text);
        const current = await this.readSlot(m.current, 'current');
        const next = m.next ? await this.readSlot(m.next, 'next') : undefined;
        this.manifest = m;
        this.current = current;
        this.next = next;
        return;
      } catch (cause) {
        // The place failed, not the files it holds (permissions, a database that is down or was
        // given another master key): told as it is, never as a store to restore from backup.
        if (placeFailure(cause)) throw cause;
        // Another process may have switched the manifest and removed the files the old one named
        // while we read them: read the new one.
        if (attempt < 3 && (await this.files.read(MANIFEST)) !== text) continue;
        this.forget();
        if (cause instanceof PkiError && cause.code === PKI_CODES.STORE_CORRUPT) throw cause;
        throw new PkiError(
          PKI_CODES.STORE_CORRUPT,
          `${this.dir} holds an unreadable PKI store (${(cause as Error).message}): restore it from backup or move it away and run ca init`,
          { cause },
        );
      }
    }
  }

  private async parseManifest(text: string): Promise<Manifest> {
    const raw = JSON.parse(text) as Record<string, unknown>;
    if (raw.version === 2) return checkManifest(raw);
    if (raw.version === 1 && (raw.source === 'issued' || raw.source === 'imported')) {
      return this.upgrade(raw as unknown as ManifestV1);
    }
    throw new Error('unknown manifest');
  }

  /**
   * A version 1 store in the version 2 shape. Its one store-wide subject and source went stale once an
   * imported certificate was promoted, so each slot's are taken from its certificate instead.
   */
  private async upgrade(v1: ManifestV1): Promise<Manifest> {
    const ca = v1.source === 'issued' ? V1_CA : undefined;
    const rootPem = ca ? await this.files.read(ca.rootCert) : undefined;
    const record = async (slot: 'current' | 'next'): Promise<SlotRecord> => {
      const files = slotFiles(slot);
      const [certPem, chainPem] = await Promise.all([this.files.read(files.cert), this.files.read(files.chain)]);
      if (!certPem || !chainPem) throw new Error(`missing ${slot} files`);
      const info = describeCertificate(certPem);
      const issued = rootPem !== undefined && chainsTo(chainPem, rootPem);
      return { source: issued ? 'issued' : 'imported', subject: info.subject, dnsNames: info.dnsNames, files };
    };
    return {
      version: 2,
      ...(ca ? { ca } : {}),
      keyType: checkKeyType(v1.keyType),
      validityDays: checkDays(v1.validityDays, 365),
      current: await record('current'),
      ...(v1.hasNext ? { next: await record('next') } : {}),
      updatedAt: '',
    };
  }

  private async readSlot(r: SlotRecord, slot: 'current' | 'next'): Promise<Slot> {
    const { cert, key, chain, bundle } = r.files;
    const [certPem, keyPem, chainPem, bundlePem] = await Promise.all([
      this.files.read(cert),
      this.files.read(key, { secret: true }),
      this.files.read(chain),
      this.files.read(bundle),
    ]);
    if (!certPem || !keyPem || !chainPem || !bundlePem) throw new Error(`missing ${slot} files`);
    // A key that is not the certificate's fails every handshake: refuse the store at once instead.
    if (!toX509(certPem, `${slot} certificate`).checkPrivateKey(readPrivateKey(keyPem, `${slot} private key`))) {
      throw new PkiError(
        PKI_CODES.STORE_CORRUPT,
        `${this.dir}: the ${slot} private key (${key}) does not belong to the ${slot} certificate (${cert}), so every handshake would fail: restore the store from backup`,
      );
    }
    if (!certificateDers(chainPem)[0]!.equals(certificateDers(certPem)[0]!)) {
      throw new PkiError(
        PKI_CODES.STORE_CORRUPT,
        `${this.dir}: the ${slot} chain (${chain}) does not start with the ${slot} certificate (${cert}): restore the store from backup`,
      );
    }
    describeCertificate(certPem);
    return { certPem, keyPem, chainPem, bundlePem };
  }

  /** Writes a slot's files under a fresh id; nothing refers to them until the manifest does. */
  private async writeSlot(s: Slot): Promise<SlotFiles> {
    const files = slotFiles(`leaf-${newId()}`);
    await this.files.write(files.key, s.keyPem, SECRET);
    await this.files.write(files.cert, s.certPem, PUBLIC);
    await this.files.write(files.chain, s.chainPem, PUBLIC);
    await this.files.write(files.bundle, s.bundlePem, PUBLIC);
    return files;
  }

  private async writeIntermediate(ca: CertKey): Promise<Pick<CaFiles, 'intermediateCert' | 'intermediateKey'>> {
    const id = newId();
    const files = { intermediateCert: `intermediate-${id}.pem`, intermediateKey: `intermediate-${id}-key.pem` };
    await this.files.write(files.intermediateKey, ca.keyPem, SECRET);
    await this.files.write(files.intermediateCert, ca.certPem, PUBLIC);
    return files;
  }

  /**
   * The switch: writes the manifest (atomically, last), then adopts the new state and removes the
   * files no manifest names any more.
   */
  private async commit(m: ManifestBody, current: Slot, next: Slot | undefined, first = false): Promise<Identity> {
    const manifest: Manifest = { version: 2, ...m, updatedAt: this.now().toISOString() };
    // The first manifest is created, never replaced: of two processes creating the store at once,
    // the one that loses keeps nothing of its own (STORE_EXISTS) and can reload the winner's.
    await this.files.write(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`, { secret: false, exclusive: first });
    this.manifest = manifest;
    this.current = current;
    this.next = next;
    await this.removeStale(manifest);
    return this.identity();
  }

  private async removeStale(m: Manifest): Promise<void> {
    const keep = new Set([
      ...Object.values(m.ca ?? {}),
      ...Object.values(m.current.files),
      ...Object.values(m.next?.files ?? {}),
    ]);
    const stale = (await this.files.list()).filter(
      (f) => !keep.has(f) && (f.endsWith('.pem') || /\.pem\.[0-9a-f]+\.tmp$/.test(f)),
    );
    // Best effort: the manifest is written, so a file left behind is clutter, not a wrong state.
    await Promise.all(stale.map((f) => this.files.remove(f).catch(() => {})));
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
    parseSubject(o.subject, 'subject');
    const keyType = checkKeyType(o.keyType);
    const validityDays = checkDays(o.validityDays, 365);
    const dnsNames = checkDnsNames(o.dnsNames, false);
    const h = await createHierarchy({ ...opts, keyType, validityDays, dnsNames, now: this.now });
    // Read back before any file exists: a subject we cannot describe must not leave keys behind.
    const subject = describeCertificate(h.leaf.certPem).subject;
    await this.files.prepare();
    // Under a fresh id, as every file: another process creating a store at the same moment must
    // not replace our root's files before the manifest decides whose store it is.
    const root = { rootCert: `root-${newId()}.pem`, rootKey: `root-${newId()}-key.pem` };
    await this.files.write(root.rootKey, h.root.keyPem, SECRET);
    await this.files.write(root.rootCert, h.root.certPem, PUBLIC);
    const intermediate = await this.writeIntermediate(h.intermediate);
    const current = issuedSlot(h.leaf, h.intermediate, h.root);
    const files = await this.writeSlot(current);
    return this.commit(
      {
        ca: { ...root, ...intermediate },
        keyType,
        validityDays,
        current: { source: 'issued', subject, dnsNames, files },
      },
      current,
      undefined,
      true,
    );
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
    await this.files.prepare();
    const record = {
      source: 'imported' as const,
      subject: info.subject,
      dnsNames: info.dnsNames,
      files: await this.writeSlot(slot),
    };
    if (asNext) return this.commit({ ...this.manifest!, next: record }, this.current!, slot);
    return this.commit(
      {
        keyType: (KEY_TYPES as readonly string[]).includes(info.keyType) ? (info.keyType as KeyType) : 'ec-p256',
        validityDays: Math.max(1, Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY_MS)),
        current: record,
      },
      slot,
      undefined,
      true,
    );
  }

  async rotate(opts: RotateOptions = {}): Promise<Identity> {
    const o = checkObject(opts, 'options');
    const m = this.requireStore();
    // Every option is checked before anything is decided, so a daily job's mistake fails on its first
    // run rather than on the day the certificate is due.
    const keyType = checkKeyType(o.keyType ?? m.keyType);
    const validityDays = checkDays(o.validityDays, m.validityDays);
    if (o.force !== undefined && typeof o.force !== 'boolean') throw optionError('force', 'must be a boolean');
    if (o.ifExpiresWithinDays !== undefined) {
      const within = checkDays(o.ifExpiresWithinDays, 0, 'ifExpiresWithinDays');
      if (o.force === true) throw optionError('force', 'cannot be combined with ifExpiresWithinDays');
      const current = describeCertificate(this.current!.certPem);
      if (this.next || current.notAfter.getTime() - this.now().getTime() > within * DAY_MS) return this.identity();
    }
    if (this.next && o.force !== true) {
      const fp = describeCertificate(this.next.certPem).fingerprints.sha256;
      throw new PkiError(
        PKI_CODES.NEXT_EXISTS,
        `a next certificate (SHA-256 ${fp}) is already waiting; receivers may have pinned it: promote it, or rotate with --force to replace it`,
      );
    }
    const { ca, root, intermediate } = await this.issuingCa(m, validityDays, keyType);
    // Issued now, valid at once: it overlaps the current certificate until that one expires, so
    // receivers can trust and pin both before the switch.
    const leaf = await issueCertificate(intermediate, {
      subject: m.current.subject,
      dnsNames: m.current.dnsNames,
      keyType,
      validityDays,
      now: this.now,
    });
    // The next slot's own chain and bundle, from the CA that issued it: the current slot's may be
    // another (an older intermediate).
    const slot = issuedSlot(leaf, intermediate, root);
    const files = await this.writeSlot(slot);
    const next = { source: 'issued' as const, subject: m.current.subject, dnsNames: m.current.dnsNames, files };
    return this.commit({ ...m, ca, keyType, validityDays, next }, this.current!, slot);
  }

  /**
   * Our CA, checked to be the one behind the current certificate, with an intermediate that lasts
   * the `validityDays` asked: renewed from the root when it would end sooner.
   */
  private async issuingCa(
    m: Manifest,
    validityDays: number,
    keyType: KeyType,
  ): Promise<{ ca: CaFiles; root: CertKey; intermediate: CertKey }> {
    if (!m.ca) {
      throw new PkiError(
        PKI_CODES.NO_CA,
        'this identity was imported, so there is no CA key to issue with: have your CA issue the next certificate and run ca import --next',
      );
    }
    const rootCert = await this.readCaFile(m.ca.rootCert);
    if (m.current.source !== 'issued' || !chainsTo(this.current!.chainPem, rootCert)) {
      const issuer = describeCertificate(this.current!.certPem).issuer;
      throw new PkiError(
        PKI_CODES.NO_CA,
        `the current certificate was imported (issued by "${issuer}"), and this store's CA did not issue it, so it cannot issue the next one: have that CA issue it and run ca import --next`,
      );
    }
    const intermediate = {
      certPem: await this.readCaFile(m.ca.intermediateCert),
      keyPem: await this.readCaFile(m.ca.intermediateKey, true),
    };
    const wanted = this.now().getTime() + validityDays * DAY_MS;
    const old = describeCertificate(intermediate.certPem);
    if (old.notAfter.getTime() >= wanted) return { ca: m.ca, root: { certPem: rootCert, keyPem: '' }, intermediate };

    // The intermediate would cut the certificate short (or has expired): a new one from the root,
    // same subject, new key. Receivers that trust the root accept it; the next slot's bundle carries it.
    const rootInfo = describeCertificate(rootCert);
    if (rootInfo.notAfter.getTime() < wanted) {
      const left = Math.floor((rootInfo.notAfter.getTime() - this.now().getTime()) / DAY_MS);
      throw new PkiError(
        PKI_CODES.CA_EXPIRING,
        `the intermediate CA expires on ${old.notAfter.toISOString()} and the root CA "${rootInfo.subject}" on ${rootInfo.notAfter.toISOString()}, before a ${validityDays}-day certificate would end: ` +
          (left >= 1 ? `rotate with --validity-days ${left} or fewer, or ` : '') +
          'create a new hierarchy (ca init in another --dir) and give receivers its CA bundle',
      );
    }
    const root = { certPem: rootCert, keyPem: await this.readCaFile(m.ca.rootKey, true) };
    const renewed = await issueCertificate(root, {
      subject: old.subject,
      keyType,
      validityDays: Math.min(36_500, Math.max(1825, validityDays * 3)),
      now: this.now,
      usage: 'ca',
      pathLength: 0,
    });
    const files = await this.writeIntermediate(renewed);
    return { ca: { ...m.ca, ...files }, root, intermediate: renewed };
  }

  private async readCaFile(file: string, isKey = false): Promise<string> {
    const text = await this.files.read(file, { secret: isKey });
    if (!text) throw new PkiError(PKI_CODES.STORE_CORRUPT, `${this.dir} lacks ${file}: restore it from backup`);
    return text;
  }

  async promote(): Promise<Identity> {
    const m = this.requireStore();
    if (!this.next || !m.next) {
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
    // The next slot's record (files, source, subject) becomes the current one: one manifest write.
    const { next, ...rest } = m;
    return this.commit({ ...rest, current: next }, this.next, undefined);
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

/**
 * Opens (without creating) the store in `dir`, or in the place `files` stands for; `init` or
 * `import` create it.
 */
export async function openPkiStore(dir: string | PkiFiles, opts: { now?: () => Date } = {}): Promise<PkiStore> {
  if (typeof dir === 'string') {
    if (dir === '') throw optionError('dir', 'a directory path is required');
  } else if (typeof dir !== 'object' || dir === null || typeof dir.write !== 'function') {
    throw optionError('dir', 'a directory path or a PkiFiles place is required');
  }
  const files = typeof dir === 'string' ? directoryFiles(dir) : dir;
  const store = new FileStore(files, checkNow(checkObject(opts, 'options').now));
  await store.reload();
  return store;
}
