import { randomBytes } from 'node:crypto';

// Crockford base32: ids sort lexicographically in creation order, which is what lets list pagination
// use the last id seen as its iterator (no offsets, stable under concurrent inserts).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = 0;

/** Every pair of base32 digits, so that encoding takes half the steps. */
const PAIRS = Array.from({ length: 1024 }, (_, i) => `${ALPHABET[i >> 5]}${ALPHABET[i & 31]}`);

/**
 * `length` (even) base32 digits of a non-negative integer below 2^53, two at a time (Number
 * arithmetic: no BigInt steps).
 */
function encode(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 2) {
    out = (PAIRS[value % 1024] as string) + out;
    value = Math.floor(value / 1024);
  }
  return out;
}

// The 80-bit random part as two 40-bit halves (8 digits each), so every step stays in Number range.
const HALF = 2 ** 40;
let randomHi = 0;
let randomLo = 0;
let timePart = '';
/** `timePart` and the high half's digits: both change only when a new millisecond starts. */
let head = '';

/**
 * Random bytes drawn 10 at a time from a pooled buffer: one `randomBytes` call per new millisecond
 * cost the delivering thread ~0.5 µs per delivery in bench/dispatch.ts (each attempt gets an id).
 * Ids are unique and ordered, not secret.
 */
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolAt = 0;
function random40(): [number, number] {
  if (poolAt + 10 > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const hi = pool.readUIntBE(poolAt, 5);
  const lo = pool.readUIntBE(poolAt + 5, 5);
  poolAt += 10;
  return [hi, lo];
}

/**
 * The smallest id of `prefix` made at `ms`: ids made at or after `ms` sort at or above it, those
 * made before below it. Bounds a time window on an id index.
 */
export function idFloor(prefix: string, ms: number): string {
  return `${prefix}_${encode(Math.max(0, Math.floor(ms)), 10)}`;
}

/**
 * A ULID-style id with a type prefix (`app_`, `ep_`, `msg_`, `atmpt_`), as Svix ids have. Monotonic
 * within a millisecond so that ids created in one burst keep their order.
 */
export function newId(prefix: string, nowMs: number = Date.now()): string {
  if (nowMs <= lastMs) {
    randomLo += 1;
    if (randomLo === HALF) {
      randomLo = 0;
      randomHi += 1;
      head = timePart + encode(randomHi, 8);
    }
  } else {
    lastMs = nowMs;
    timePart = encode(lastMs, 10);
    const [hi, lo] = random40();
    // 79 random bits (the top bit clear): headroom for increments within one millisecond.
    randomHi = hi % 2 ** 39;
    randomLo = lo;
    head = timePart + encode(randomHi, 8);
  }
  return `${prefix}_${head}${encode(randomLo, 8)}`;
}
