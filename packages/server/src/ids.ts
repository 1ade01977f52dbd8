import { randomBytes } from 'node:crypto';

// Crockford base32: ids sort lexicographically in creation order, which is what lets list pagination
// use the last id seen as its iterator (no offsets, stable under concurrent inserts).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = 0;
let lastRandom = 0n;

function encode(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/**
 * A ULID-style id with a type prefix (`app_`, `ep_`, `msg_`, `atmpt_`), as Svix ids have. Monotonic
 * within a millisecond so that ids created in one burst keep their order.
 */
export function newId(prefix: string, nowMs: number = Date.now()): string {
  if (nowMs <= lastMs) {
    lastRandom += 1n;
  } else {
    lastMs = nowMs;
    lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`) >> 1n; // headroom for increments
  }
  return `${prefix}_${encode(BigInt(lastMs), 10)}${encode(lastRandom, 16)}`;
}
