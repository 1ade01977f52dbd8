/**
 * Remembered chain checks. Building the path to a trusted CA verifies one signature per link and
 * measured ~790 µs of CPU per request in bench/gate.ts, for the same certificate on every request of
 * a keep-alive stream. Only the time-independent half (which path, which signatures) is remembered;
 * validity and depth are checked again on every call against the injected clock, so a hit decides
 * exactly what a fresh check would.
 *
 * The key holds the SHA-256 of the leaf, of every presented certificate and of every anchor, in
 * order, and the depth: another CA bundle or policy is another entry. A failure is remembered as
 * that failure and rethrown; it never becomes a success. An entry whose path has expired is dropped.
 */
import type { X509Certificate } from 'node:crypto';
import { buildPath, checkPath, fingerprintsOf, validityOf } from './certificate.ts';
import { PolicyError, VerificationError } from './errors.ts';
import { Lru } from './lru.ts';

type Entry =
  | { path: readonly X509Certificate[]; notAfter: number }
  | { code: VerificationError['code']; detail: string };

export const DEFAULT_CHAIN_CACHE_SIZE = 256;

export class ChainCache {
  readonly #entries: Lru<string, Entry>;
  #last:
    | {
        leaf: X509Certificate;
        presented: readonly X509Certificate[];
        anchors: readonly X509Certificate[];
        maxDepth: number;
        key: string;
      }
    | undefined;
  /** Calls answered from the cache / computed: for tests and metrics. */
  hits = 0;
  misses = 0;

  constructor(maxEntries = DEFAULT_CHAIN_CACHE_SIZE) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new PolicyError('chainCacheSize', 'must be a positive integer');
    }
    this.#entries = new Lru(maxEntries);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** verifyChain, remembered: same arguments, same result or same error. Returns the path, leaf first. */
  verify(
    leaf: X509Certificate,
    presented: readonly X509Certificate[],
    anchors: readonly X509Certificate[],
    maxDepth: number,
    nowMs: number,
  ): readonly X509Certificate[] {
    // The same certificate instances as last time (parsing hands out one instance per input) make
    // the same key: reuse the string, skipping its construction and the hashing of a fresh one.
    const l = this.#last;
    const same =
      l !== undefined &&
      l.leaf === leaf &&
      l.maxDepth === maxDepth &&
      sameItems(l.presented, presented) &&
      sameItems(l.anchors, anchors);
    const key = same ? l.key : keyOf(leaf, presented, anchors, maxDepth);
    if (!same) this.#last = { leaf, presented: [...presented], anchors: [...anchors], maxDepth, key };
    let entry = this.#entries.get(key);
    if (entry && 'path' in entry && !(nowMs <= entry.notAfter)) {
      this.#entries.delete(key);
      entry = undefined;
    }
    if (entry) this.hits++;
    else {
      this.misses++;
      entry = compute(leaf, presented, anchors);
      this.#entries.set(key, entry);
    }
    // A fresh error each time: a shared instance would carry one request's stack into another's.
    if (!('path' in entry)) throw new VerificationError(entry.code, entry.detail);
    checkPath(entry.path, maxDepth, nowMs);
    return entry.path;
  }
}

function compute(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
): Entry {
  try {
    const path = buildPath(leaf, presented, anchors);
    return { path, notAfter: Math.min(...path.map((c) => validityOf(c).to)) };
  } catch (err) {
    if (err instanceof VerificationError) return { code: err.code, detail: err.message };
    throw err;
  }
}

function sameItems(a: readonly X509Certificate[], b: readonly X509Certificate[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function keyOf(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  maxDepth: number,
): string {
  let key = `${maxDepth}|${fingerprintsOf(leaf).sha256Hex}|`;
  for (const c of presented) key += `${fingerprintsOf(c).sha256Hex},`;
  key += '|';
  for (const c of anchors) key += `${fingerprintsOf(c).sha256Hex},`;
  return key;
}
