import { SERVER_CODES, ServerError } from '../errors.ts';

/**
 * Storage faults: the database cannot take a write (full, read-only, busy) or cannot be reached.
 * Both backends' driver errors are classified here, once, into a StorageFault with a stable code
 * (its status and detail are in the server's table, errors.ts); every such fault may pass when
 * retried, so the API answers 503 with Retry-After and the node's health reports it until a write
 * succeeds again (storage-health.ts).
 */
export const STORAGE_FAULT_CODES = [
  'HW_STORE_FULL',
  'HW_STORE_READ_ONLY',
  'HW_STORE_UNAVAILABLE',
  'HW_STORE_BUSY',
] as const;

export type StorageFaultCode = (typeof STORAGE_FAULT_CODES)[number];

/** What a client is told to wait before it retries a request refused by a storage fault. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * A storage fault. The message adds the driver's own words (for the log and the CLI); the API
 * answers only the code's fixed detail, which names no host, path or address.
 */
export class StorageFault extends ServerError {
  override readonly name: string = 'StorageFault';
  declare readonly code: StorageFaultCode;

  constructor(
    code: StorageFaultCode,
    /** The driver's code and message, e.g. `SQLITE_FULL: database or disk is full`. */
    readonly reason: string,
    cause?: unknown,
  ) {
    const { message, status } = SERVER_CODES[code];
    super(code, reason ? `${message} (${reason})` : message, { status, cause });
  }

  /** The detail a client is answered. */
  get detail(): string {
    return SERVER_CODES[this.code].message;
  }
}

export const isStorageFaultCode = (code: unknown): code is StorageFaultCode =>
  (STORAGE_FAULT_CODES as readonly unknown[]).includes(code);

// better-sqlite3 reports SQLite's extended codes (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE, …):
// the primary code decides. SQLITE_BUSY and SQLITE_LOCKED arrive only after the busy timeout.
const SQLITE_FAULTS: Record<string, StorageFaultCode> = {
  SQLITE_FULL: 'HW_STORE_FULL',
  SQLITE_READONLY: 'HW_STORE_READ_ONLY',
  SQLITE_IOERR: 'HW_STORE_UNAVAILABLE',
  SQLITE_CANTOPEN: 'HW_STORE_UNAVAILABLE',
  SQLITE_BUSY: 'HW_STORE_BUSY',
  SQLITE_LOCKED: 'HW_STORE_BUSY',
};

// SQLSTATEs. 53100 disk_full; 25006 read_only_sql_transaction (a standby, or default_transaction_read_only);
// 53300 too_many_connections; 55P03 lock_not_available; 57P01-03 admin or crash shutdown, cannot
// connect now (starting, recovering); class 08, connection exceptions.
const POSTGRES_FAULTS: Record<string, StorageFaultCode> = {
  '53100': 'HW_STORE_FULL',
  '25006': 'HW_STORE_READ_ONLY',
  '53300': 'HW_STORE_BUSY',
  '55P03': 'HW_STORE_BUSY',
  '57P01': 'HW_STORE_UNAVAILABLE',
  '57P02': 'HW_STORE_UNAVAILABLE',
  '57P03': 'HW_STORE_UNAVAILABLE',
};

/** Errors of the network or of a server that is going away: the database may be back later. */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** What `pg` itself says when a connection ends or cannot be had (it carries no code). */
const CONNECTION_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|not queryable|connection timeout/i;

/** The table's entry for a key of its own: a code such as `toString` names no prototype member. */
const own = (table: Record<string, StorageFaultCode>, key: string): StorageFaultCode | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;

function faultCodeOf(code: string, message: string): StorageFaultCode | undefined {
  if (code.startsWith('SQLITE_')) return own(SQLITE_FAULTS, code.match(/^SQLITE_[A-Z]+/)?.[0] ?? '');
  const state = own(POSTGRES_FAULTS, code);
  if (state) return state;
  if (CONNECTION_ERRNOS.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return 'HW_STORE_UNAVAILABLE';
  if (!code && CONNECTION_MESSAGE.test(message)) return 'HW_STORE_UNAVAILABLE';
  return undefined;
}

/**
 * The storage fault an error is, or undefined: a StorageFault as it is (also one rebuilt after
 * crossing the SQLite thread), a driver error of either backend classified.
 */
export function storageFault(err: unknown): StorageFault | undefined {
  if (err instanceof StorageFault) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  if (err instanceof ServerError || typeof e !== 'object' || e === null) return undefined;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const fault = faultCodeOf(code, message);
  if (fault === undefined) return undefined;
  return new StorageFault(fault, [code, message].filter(Boolean).join(': '), err);
}
