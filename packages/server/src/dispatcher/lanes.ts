import type { ClaimedDelivery } from '../store/types.ts';

/** A claimed row waiting to start, and the latest instant it still may (its lease must outlast the attempt). */
export interface Waiting {
  delivery: ClaimedDelivery;
  startBy: number;
}

/**
 * This process's view of one endpoint it holds rows for: its attempts in flight, its claimed rows
 * waiting to start (oldest first), how many of its attempts are late (in flight past the slow
 * threshold), and whether it counts in the slow lane.
 */
export class Lane {
  inFlight = 0;
  late = 0;
  readonly queue: Waiting[] = [];
  /** Counted in the slow lane: its attempts in flight are part of `Lanes.slowInFlight`. */
  slow = false;
  /** Its waiting rows could not start at the last pass (its limit, circuit, rate or the slow lane). */
  blocked = false;
  constructor(readonly endpointId: string) {}
}

/**
 * Every lane, and the totals the dispatcher's limits are about: rows waiting, those of them held back
 * by their own endpoint (which are no read-ahead for free slots), and the attempts in flight to slow
 * endpoints, which together may hold only so many slots.
 */
export class Lanes {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with rows waiting, in the order they got them. */
  readonly withWaiting = new Set<Lane>();
  waiting = 0;
  heldBack = 0;
  slowInFlight = 0;

  constructor(private readonly isSlow: (endpointId: string) => boolean) {}

  get(endpointId: string): Lane {
    let lane = this.lanes.get(endpointId);
    if (lane === undefined) {
      lane = new Lane(endpointId);
      lane.slow = this.isSlow(endpointId);
      this.lanes.set(endpointId, lane);
    }
    return lane;
  }

  peek(endpointId: string): Lane | undefined {
    return this.lanes.get(endpointId);
  }

  all(): IterableIterator<Lane> {
    return this.lanes.values();
  }

  enqueue(lane: Lane, w: Waiting): void {
    lane.queue.push(w);
    this.waiting++;
    if (lane.blocked) this.heldBack++;
    this.withWaiting.add(lane);
  }

  /** Removes `count` of the lane's waiting rows from index `at` (by default its oldest). */
  dequeue(lane: Lane, at = 0, count = 1): void {
    if (at === 0 && count === 1) lane.queue.shift();
    else lane.queue.splice(at, count);
    this.waiting -= count;
    if (lane.blocked) this.heldBack -= count;
    this.settle(lane);
  }

  block(lane: Lane, blocked: boolean): void {
    if (lane.blocked === blocked) return;
    lane.blocked = blocked;
    this.heldBack += blocked ? lane.queue.length : -lane.queue.length;
  }

  started(lane: Lane): void {
    lane.inFlight++;
    if (lane.slow) this.slowInFlight++;
  }

  ended(lane: Lane): void {
    lane.inFlight--;
    if (lane.slow) this.slowInFlight--;
    this.tidy(lane);
  }

  /** Whether the endpoint is slow now: an attempt of it is late, or its last one was slow. */
  reclassify(lane: Lane): void {
    const slow = lane.late > 0 || this.isSlow(lane.endpointId);
    if (slow === lane.slow) return;
    lane.slow = slow;
    this.slowInFlight += slow ? lane.inFlight : -lane.inFlight;
  }

  /** A lane whose last waiting row went. */
  private settle(lane: Lane): void {
    if (lane.queue.length > 0) return;
    this.withWaiting.delete(lane);
    this.block(lane, false);
  }

  /** Drops a lane with nothing in flight or waiting: the gate remembers what matters of it. */
  tidy(lane: Lane): void {
    if (lane.queue.length === 0 && lane.inFlight === 0 && lane.late === 0) this.lanes.delete(lane.endpointId);
  }

  /** Rows held per endpoint (in flight and waiting), for a claim. */
  held(): Map<string, number> {
    const out = new Map<string, number>();
    for (const lane of this.lanes.values()) {
      const n = lane.inFlight + lane.queue.length;
      if (n > 0) out.set(lane.endpointId, n);
    }
    return out;
  }
}
