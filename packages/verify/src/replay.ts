/**
 * Replay protection: a signed message is accepted once. The key is `webhook-id` + timestamp: an
 * attacker replaying a captured request repeats both, while the platform's retries reuse the id
 * with a fresh timestamp and signature (receivers de-duplicate those by id in their own logic,
 * after processing succeeded — refusing them here would turn one failed attempt into a lost event).
 */
import { PolicyError } from './errors.ts';

/**
 * Where accepted messages are remembered. A store protects exactly the verifiers that share it:
 * MemoryReplayStore one process until it restarts, FileReplayStore every process on one host that
 * names its directory, across restarts; a networked store (Redis, a database) every host using it.
 *
 * What an implementation must guarantee:
 * - `remember` is one atomic test-and-set for all verifiers sharing the store: of any number of
 *   concurrent calls with one key, exactly one resolves true while the record lives;
 * - a record resolved true survives what the deployment must survive (a restart, a failover) at
 *   least until `expiresAtMs`, which is when the timestamp check starts refusing the message anyway;
 * - on failure it rejects (the verifier then fails the request, and the platform retries): never
 *   resolve true for a key it could not record.
 *
 * Redis (node-redis or ioredis), keys prefixed to keep them apart from other data:
 * ```ts
 * const store: ReplayStore = {
 *   async remember(key, expiresAtMs) {
 *     return (await redis.set(`hookwarden:replay:${key}`, '1', { NX: true, PXAT: expiresAtMs })) === 'OK';
 *   },
 * };
 * ```
 * (ioredis: `redis.set(name, '1', 'PXAT', expiresAtMs, 'NX')`.) With a replicated Redis, a
 * failover can lose the last writes not yet replicated; `WAIT 1 <ms>` after the SET narrows that.
 */
export interface ReplayStore {
  /**
   * Atomically records `key` until `expiresAtMs`. Resolves true when the key was new (or had
   * expired), false when it is already recorded. A Redis store is `SET key 1 NX PXAT expiresAtMs`.
   */
  remember(key: string, expiresAtMs: number): Promise<boolean>;
}

export interface MemoryReplayStoreOptions {
  /** Most keys kept; the oldest are evicted beyond it (default 100 000, about 10 MB). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * In-memory store for a single process. Entries live until the message's timestamp leaves the
 * tolerance window, after which the timestamp check refuses the message anyway. A flood of valid,
 * distinct messages larger than `maxEntries` within one window would evict live keys: only the
 * platform can sign, so size it above the platform's peak rate × window.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #seen = new Map<string, number>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: MemoryReplayStoreOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new PolicyError('replay.maxEntries', 'must be a positive integer');
    this.#max = max;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#seen.size;
  }

  async remember(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#now();
    const existing = this.#seen.get(key);
    if (existing !== undefined && existing > now) return false;
    this.#seen.delete(key);
    this.#seen.set(key, expiresAtMs);
    // Insertion order is roughly expiry order: drop expired keys from the front, bounded per call.
    let swept = 0;
    for (const [k, exp] of this.#seen) {
      if (swept >= 8 || exp > now) break;
      this.#seen.delete(k);
      swept++;
    }
    while (this.#seen.size > this.#max) {
      const oldest = this.#seen.keys().next().value as string;
      this.#seen.delete(oldest);
    }
    return true;
  }
}
