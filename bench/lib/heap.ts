import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection on demand, without asking every caller of `npm run bench` for --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Collects the garbage left by whatever ran before a timed round, so that each contender starts
 * from the same heap. Without it, a round pays for its setup: the 20,000-message seed of a
 * dispatcher round left ~5 MB promoted a scavenge and a mark-compact in the first 60 ms of the clock.
 */
export function settleHeap(): void {
  gc();
}
