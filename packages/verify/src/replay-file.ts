/**
 * A replay store in a directory, shared by every verifier on one host that names the same
 * directory (several gates, several worker processes) and kept across restarts and crashes.
 *
 * One file per key, named by the key's SHA-256 and holding its expiry. A record is published with
 * `link(2)` from a complete temporary file: link fails with EEXIST when the name exists, atomically,
 * across processes, so of any number of verifiers remembering one key at once exactly one succeeds,
 * and a record is never seen half-written. Once `remember` resolves true the record is in the
 * file system: a killed or crashed process loses none. (A crash of the machine itself can leave a
 * record empty or lose the last seconds of writes, as the kernel had not flushed them; an empty or
 * unreadable record counts as live for a day, so that case fails closed rather than open.)
 *
 * An expired record is replaced by renaming it away first (only one process can take a given
 * file) and checking that what was taken had expired; expired records are swept a bucket at a
 * time in the background. It needs a local file system with hard links (not every network one).
 */
import { createHash, randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { link, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PolicyError } from './errors.ts';
import type { ReplayStore } from './replay.ts';

/** An empty or unreadable record (a machine crash before it was flushed) counts as live this long. */
const UNREADABLE_RECORD_MS = 24 * 3600_000;
/** Temporary files older than this were left by a process that died between writing and linking. */
const STALE_TEMP_MS = 10 * 60_000;
const BUCKETS = 256;
/** Attempts to publish against concurrent replacements before answering "seen" (failing closed). */
const ATTEMPTS = 4;

export interface FileReplayStoreOptions {
  /** The directory (created if missing, mode 0700). Every verifier sharing it shares the records. */
  dir: string;
  /**
   * Milliseconds between background sweeps of one bucket (1/256 of the records). Default 1000;
   * Infinity sweeps only when `sweep()` is called.
   */
  sweepIntervalMs?: number;
  now?: () => number;
}

export class FileReplayStore implements ReplayStore {
  readonly #dir: string;
  readonly #temp: string;
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  #lastSweep = Number.NEGATIVE_INFINITY;
  #nextBucket = 0;
  #sweeping: Promise<void> | undefined;

  constructor(options: FileReplayStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '') {
      throw new PolicyError('replay.dir', 'must name a directory');
    }
    const interval = options.sweepIntervalMs ?? 1000;
    if (typeof interval !== 'number' || Number.isNaN(interval) || interval < 0) {
      throw new PolicyError('replay.sweepIntervalMs', 'must be a number of milliseconds');
    }
    this.#dir = options.dir;
    this.#temp = join(options.dir, 'tmp');
    this.#now = options.now ?? Date.now;
    this.#sweepIntervalMs = interval;
    try {
      mkdirSync(this.#temp, { recursive: true, mode: 0o700 });
      for (let b = 0; b < BUCKETS; b++) mkdirSync(join(this.#dir, bucketName(b)), { recursive: true, mode: 0o700 });
      accessSync(this.#dir, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw new PolicyError('replay.dir', `cannot be used: ${(err as Error).message}`);
    }
  }

  async remember(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#now();
    this.#maybeSweep(now);
    const name = createHash('sha256').update(key).digest('hex');
    const record = join(this.#dir, name.slice(0, 2), name);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const existing = await expiryOf(record);
      if (existing !== undefined) {
        if (existing > now) return false;
        // Expired: take it away, unless someone else did or what was there is not expired after all.
        if (!(await this.#removeIfExpired(record, now))) continue;
      }
      if (await this.#publish(record, expiresAtMs)) return true;
    }
    return false;
  }

  /** Removes every expired record and stale temporary file now; returns how many records went. */
  async sweep(): Promise<number> {
    await this.#sweeping;
    let removed = 0;
    const now = this.#now();
    for (let b = 0; b < BUCKETS; b++) removed += await this.#sweepBucket(b, now);
    await this.#sweepTemp(now);
    return removed;
  }

  /** Waits for a background sweep in progress (for a clean shutdown or a test). */
  async settled(): Promise<void> {
    await this.#sweeping;
  }

  async #publish(record: string, expiresAtMs: number): Promise<boolean> {
    const temp = join(this.#temp, `${process.pid}.${randomUUID()}`);
    await writeFile(temp, String(expiresAtMs), { flag: 'wx', mode: 0o600 });
    try {
      await link(temp, record);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  /**
   * Takes `record` away if it has expired; true when it is gone. Renaming is the atomic step: of
   * several processes only one takes a given file. What was taken is checked again, and a record
   * that turns out live (published between our read and our rename) is put back.
   */
  async #removeIfExpired(record: string, now: number): Promise<boolean> {
    const taken = join(this.#temp, `${process.pid}.${randomUUID()}.taken`);
    try {
      await rename(record, taken);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw err;
    }
    const expiry = await expiryOf(taken);
    if (expiry !== undefined && expiry > now) {
      await link(taken, record).catch((err: NodeJS.ErrnoException) => {
        // Another live record took the name meanwhile: it keeps the key refused just as well.
        if (err.code !== 'EEXIST') throw err;
      });
      await unlink(taken).catch(() => {});
      return false;
    }
    await unlink(taken).catch(() => {});
    return true;
  }

  #maybeSweep(now: number): void {
    if (this.#sweeping || now - this.#lastSweep < this.#sweepIntervalMs) return;
    this.#lastSweep = now;
    const bucket = this.#nextBucket;
    this.#nextBucket = (bucket + 1) % BUCKETS;
    // Best effort: a sweep that fails leaves records for the next round, and must not fail a request.
    this.#sweeping = (async () => {
      await this.#sweepBucket(bucket, now);
      if (bucket === 0) await this.#sweepTemp(now);
    })()
      .catch(() => {})
      .finally(() => {
        this.#sweeping = undefined;
      });
  }

  async #sweepBucket(bucket: number, now: number): Promise<number> {
    const dir = join(this.#dir, bucketName(bucket));
    let removed = 0;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const record = join(dir, name);
      const expiry = await expiryOf(record);
      if (expiry !== undefined && expiry <= now && (await this.#removeIfExpired(record, now))) removed++;
    }
    return removed;
  }

  async #sweepTemp(now: number): Promise<void> {
    for (const name of await readdir(this.#temp).catch(() => [] as string[])) {
      const path = join(this.#temp, name);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => {});
    }
  }
}

function bucketName(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** A record's expiry; undefined when there is none. */
async function expiryOf(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (/^[0-9]{1,16}$/.test(text)) return Number(text);
  const info = await stat(path).catch(() => undefined);
  return info === undefined ? undefined : info.mtimeMs + UNREADABLE_RECORD_MS;
}
