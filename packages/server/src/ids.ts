import { randomBytes } from 'node:crypto';

// Crockford base32: ids sort lexicographically in creation order, which is what lets list pagination
// use the last id seen as its iterator (no offsets, stable under concurrent inserts).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = 0;

/** `length` base32 digits of a non-negative integer below 2^53 (Number arithmetic: no BigInt steps). */
function encode(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

// The 80-bit random part as two 40-bit halves (8 digits each), so every step stays in Number range.
const HALF = 2 ** 40;
let randomHi = 0;
let randomLo = 0;
let timePart = '';

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
    }
  } else {
    lastMs = nowMs;
    timePart = encode(lastMs, 10);
    const bytes = randomBytes(10);
    // 79 random bits (the top bit clear): headroom for increments within one millisecond.
    randomHi = bytes.readUIntBE(0, 5) % 2 ** 39;
    randomLo = bytes.readUIntBE(5, 5);
  }
  return `${prefix}_${timePart}${encode(randomHi, 8)}${encode(randomLo, 8)}`;
}
