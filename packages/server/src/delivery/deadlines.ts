/**
 * One timer for many deadlines of the same length. Every entry expires `ms` after it was added, so
 * insertion order is expiry order: the timer only ever waits for the oldest entry. A timer (and a
 * closure) per delivery cost more main-thread time than the rest of the timeout plumbing together
 * (profiled in bench/dispatch.ts).
 *
 * Time is the monotonic clock that timers themselves use, not an injected `now`: a deadline is a
 * promise about elapsed real time, exactly as a per-entry `setTimeout` was.
 */
export interface DeadlineSweep<T> {
  add(entry: T): void;
  /** The entry settled in time: forget it. Unknown entries are ignored. */
  delete(entry: T): void;
  readonly size: number;
}

export function createDeadlineSweep<T>(ms: number, onExpire: (entry: T) => void): DeadlineSweep<T> {
  // Map iteration follows insertion order: the first entry is always the next to expire.
  const entries = new Map<T, number>();
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;

  function arm(at: number): void {
    if (timer !== undefined && armedFor <= at) return;
    if (timer !== undefined) clearTimeout(timer);
    armedFor = at;
    timer = setTimeout(sweep, Math.max(0, at - performance.now()));
  }

  function sweep(): void {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    const t = performance.now();
    for (const [entry, due] of entries) {
      if (due > t) {
        arm(due);
        return;
      }
      entries.delete(entry);
      onExpire(entry);
    }
  }

  return {
    add(entry) {
      const due = performance.now() + ms;
      entries.set(entry, due);
      // Only the first entry needs the timer; later ones are found when it fires.
      if (timer === undefined) arm(due);
    },
    delete(entry) {
      entries.delete(entry);
      // The timer stays armed for a settled entry: when it fires it re-arms for the next one. Only an
      // empty sweep stops it, so an idle process holds no timer.
      if (entries.size === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
        armedFor = Number.POSITIVE_INFINITY;
      }
    },
    get size() {
      return entries.size;
    },
  };
}
