/**
 * One timer for many deadlines of the same length. Every entry expires `ms` after it was added, so
 * insertion order is expiry order: the timer only ever waits for the oldest entry. A timer (and a
 * closure) per delivery cost more main-thread time than the rest of the timeout plumbing together
 * (profiled in bench/dispatch.ts).
 *
 * The entries form a doubly linked list of small nodes, oldest first: adding and settling are O(1)
 * and touch no hash table. A Map keyed by the entries did the same job, but its churn (an add and a
 * delete per delivery) made the young objects of every attempt survive into the old generation:
 * scavenges took 2.4 ms instead of 0.8 ms and the delivery client lost ~10% of its throughput.
 *
 * Time is the monotonic clock that timers themselves use, not an injected `now`: a deadline is a
 * promise about elapsed real time, exactly as a per-entry `setTimeout` was.
 */
export interface DeadlineSweep<T> {
  /** Starts the entry's deadline; the returned handle settles it. */
  add(entry: T): Deadline;
  readonly size: number;
}

/** One running deadline. */
export interface Deadline {
  /** The entry settled in time: forget it. Settling twice, or after expiry, changes nothing. */
  settle(): void;
}

class Node<T> implements Deadline {
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
  live = true;
  constructor(
    readonly entry: T,
    readonly due: number,
    private readonly owner: { unlink(n: Node<T>): void },
  ) {}
  settle(): void {
    if (this.live) this.owner.unlink(this);
  }
}

export function createDeadlineSweep<T>(ms: number, onExpire: (entry: T) => void): DeadlineSweep<T> {
  let head: Node<T> | undefined;
  let tail: Node<T> | undefined;
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;

  const list = {
    unlink(n: Node<T>): void {
      n.live = false;
      if (n.prev) n.prev.next = n.next;
      else head = n.next;
      if (n.next) n.next.prev = n.prev;
      else tail = n.prev;
      n.prev = n.next = undefined;
      size--;
      // The timer stays armed for a settled entry: when it fires it re-arms for the next one. Only an
      // empty sweep stops it, so an idle process holds no timer.
      if (size === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
        armedFor = Number.POSITIVE_INFINITY;
      }
    },
  };

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
    while (head !== undefined) {
      const n = head;
      if (n.due > t) {
        arm(n.due);
        return;
      }
      list.unlink(n);
      onExpire(n.entry);
    }
  }

  return {
    add(entry) {
      const n = new Node(entry, performance.now() + ms, list);
      if (tail) {
        tail.next = n;
        n.prev = tail;
      } else head = n;
      tail = n;
      size++;
      // Only the first entry needs the timer; later ones are found when it fires.
      if (timer === undefined) arm(n.due);
      return n;
    },
    get size() {
      return size;
    },
  };
}
