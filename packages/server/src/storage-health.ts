import { type StorageFault, type StorageFaultCode, storageFault } from './store/faults.ts';

export interface StorageHealthOptions {
  now: () => number;
  /** A light write (Store.probeWrite), tried every `probeMs` while storage is faulty. */
  probe?: () => Promise<void>;
  probeMs: number;
  log: {
    warn(obj: object, msg: string): void;
    info(obj: object, msg: string): void;
  };
  /** A write was refused by a storage fault. */
  onRefused?: (code: StorageFaultCode) => void;
  /** A fault began, changed or ended (undefined: writes succeed again). */
  onChange?: (fault: StorageFault | undefined) => void;
}

/**
 * Whether the store takes writes now, as the store's callers (the API, the dispatcher, the
 * retention sweep) find out: a storage fault makes it faulty, the probe (tried while faulty) or,
 * without one, the next write that succeeds makes it healthy again. So a node heals by itself when space
 * returns or the database is back, without a restart and without traffic. One log line when a
 * fault begins (or changes), one when it ends; none per refused request.
 */
export class StorageHealth {
  private fault: StorageFault | undefined;
  private since = 0;
  private refused = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: StorageHealthOptions) {}

  /** The fault that refuses writes now; undefined when they succeed. */
  get current(): StorageFault | undefined {
    return this.fault;
  }

  /**
   * A store call failed: a storage fault (classified here if the store did not) makes storage
   * faulty. Answers the error as the caller should see it.
   */
  failed(err: unknown, write: boolean): unknown {
    const fault = storageFault(err);
    if (!fault) return err;
    this.enter(fault);
    if (write) {
      this.refused++;
      this.o.onRefused?.(fault.code);
    }
    return fault;
  }

  /**
   * A write succeeded. With a probe, that alone does not heal: on a full disk, a write that fits in
   * pages already there (a lease, an update) succeeds while a message still fails, and the state
   * would flap with every such write. The probe needs fresh pages as a message does; without one,
   * any write that succeeds heals.
   */
  wrote(): void {
    if (this.fault && !this.o.probe) this.leave();
  }

  /** Stops the probe. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enter(fault: StorageFault): void {
    const previous = this.fault;
    if (previous?.code === fault.code) return;
    this.fault = fault;
    if (previous === undefined) {
      this.since = this.o.now();
      this.refused = 0;
    }
    this.o.log.warn(
      { code: fault.code, reason: fault.reason, ...(previous ? { previous: previous.code } : {}) },
      `storage fault, writes refused: ${fault.detail}`,
    );
    this.o.onChange?.(fault);
    this.schedule();
  }

  private leave(): void {
    const fault = this.fault as StorageFault;
    this.fault = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.o.log.info(
      { code: fault.code, refused: this.refused, durationMs: this.o.now() - this.since },
      'storage recovered, writes accepted again',
    );
    this.o.onChange?.(undefined);
  }

  private schedule(): void {
    if (!this.o.probe || this.timer || this.closed) return;
    this.timer = setTimeout(() => void this.probe(), this.o.probeMs);
    // Probing is no work that must finish: it never keeps the process alive.
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    this.timer = undefined;
    if (!this.fault || this.closed) return;
    try {
      await this.o.probe?.();
      if (this.fault) this.leave();
    } catch (err) {
      // Another fault than before is told; any other failure leaves the state as it is.
      const fault = storageFault(err);
      if (fault) this.enter(fault);
    }
    if (this.fault) this.schedule();
  }
}
