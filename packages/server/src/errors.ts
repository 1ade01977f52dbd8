import { HookwardenError } from '@hookwarden/verify/errors';
import { DELIVERY_CODES } from './delivery/errors.ts';

/** One stable code of the server: the status answered, the message when no detail is given. */
interface ServerCodeEntry {
  status: number;
  message: string;
  /** Svix's own code for the case, which the API answers instead of ours (its server's HttpError). */
  svix?: string;
  /** A failure of ours, not the caller's: never told (answered as HW_INTERNAL, its message withheld). */
  internal?: true;
}

/**
 * Every failure of the delivery platform that reaches a caller, and the internal ones it logs.
 * Codes are part of the public contract: add, never rename or reuse. Where Svix's API has the case,
 * `svix` is its code, which the API answers so that clients written against Svix branch unchanged;
 * the portal shows the message. The endpoint checker's and the delivery client's own tables hold
 * the codes of their concerns; those a caller sees are listed here with the status they carry.
 */
export const SERVER_CODES = {
  HW_BAD_REQUEST: { status: 400, message: 'the request is malformed', svix: 'generic_error' },
  HW_PAYLOAD_EXPUNGED: {
    status: 400,
    message: "the message's payload was deleted: it cannot be resent",
    svix: 'missing_payload',
  },
  HW_AUTH_FAILED: { status: 401, message: 'invalid or expired token', svix: 'authentication_failed' },
  // Svix spells this code with a space.
  HW_FORBIDDEN: {
    status: 403,
    message: 'this token does not grant access to that resource',
    svix: 'insufficient access',
  },
  HW_NOT_FOUND: { status: 404, message: 'not found', svix: 'not_found' },
  HW_CONFLICT: { status: 409, message: 'that uid is already used', svix: 'conflict' },
  HW_EVENT_TYPE_EXISTS: {
    status: 409,
    message: 'an event type with this name already exists',
    svix: 'event_type_exists',
  },
  HW_PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large', svix: 'payload_too_large' },
  HW_VALIDATION_FAILED: { status: 422, message: 'the request is invalid', svix: 'validation_error' },
  HW_INTERNAL: { status: 500, message: 'internal error', svix: 'server_error' },

  HW_CHECK_URL_INVALID: { status: 400, message: 'the URL to check is not an http(s) URL' },
  HW_CHECK_BUSY: { status: 429, message: 'too many endpoint checks are running; try again shortly' },
  HW_CHECK_UNAVAILABLE: { status: 503, message: 'the endpoint checker is not configured' },
  HW_TRUST_UNAVAILABLE: { status: 503, message: 'no client certificate is configured yet' },
  HW_ENDPOINT_URL_INVALID: { status: DELIVERY_CODES.HW_ENDPOINT_URL_INVALID, message: 'the URL is not valid' },
  HW_ENDPOINT_URL_SCHEME: { status: DELIVERY_CODES.HW_ENDPOINT_URL_SCHEME, message: 'the URL must be https://' },
  HW_ENDPOINT_URL_HTTP_NOT_ALLOWED: {
    status: DELIVERY_CODES.HW_ENDPOINT_URL_HTTP_NOT_ALLOWED,
    message: 'plain http:// is refused unless the endpoint allows it',
  },
  HW_ENDPOINT_URL_FORBIDDEN_ADDRESS: {
    status: DELIVERY_CODES.HW_ENDPOINT_URL_FORBIDDEN_ADDRESS,
    message: 'the host is or resolves to an address deliveries never go to',
  },
  HW_ENDPOINT_URL_UNRESOLVABLE: {
    status: DELIVERY_CODES.HW_ENDPOINT_URL_UNRESOLVABLE,
    message: 'the host resolves to no address',
  },

  // The portal's own.
  HW_SESSION_REQUIRED: { status: 401, message: 'sign in to use the portal' },
  HW_CSRF_INVALID: {
    status: 403,
    message: 'this form was not sent from a page of this portal session: reload the page and try again',
  },

  HW_OPTION_INVALID: { status: 500, message: 'an option is invalid', internal: true },
  HW_STORE_UNAVAILABLE: { status: 503, message: 'the database is unavailable', internal: true },
  HW_STORE_FAILED: { status: 500, message: 'the store failed', internal: true },
  HW_STORE_CLOSED: { status: 500, message: 'the store is closed', internal: true },
  HW_SCHEMA_TOO_NEW: { status: 500, message: 'the database schema is newer than this server', internal: true },
  HW_DATABASE_UNSUPPORTED: { status: 500, message: 'this database is not supported', internal: true },
  HW_DATA_DIR_IN_USE: { status: 500, message: 'the data directory is in use by another process', internal: true },
  HW_MASTER_KEY_INVALID: { status: 500, message: 'the master key is invalid', internal: true },
  HW_MASTER_KEY_MISMATCH: { status: 500, message: 'the master key does not open the stored secrets', internal: true },
  HW_SEALED_INVALID: { status: 500, message: 'a stored secret is damaged', internal: true },
} as const satisfies Record<string, ServerCodeEntry>;

export type ServerCode = keyof typeof SERVER_CODES;

/**
 * Failures of the delivery platform. Codes are stable; `status` is what the API answers, matching
 * the status codes of the Svix API v1 so that its SDKs raise the error they expect.
 */
export class ServerError extends HookwardenError {
  override readonly name: string = 'ServerError';
}

/** The failure `code` of the table, with its status, and `detail` or its default message. */
export function serverError(code: ServerCode, detail?: string, cause?: unknown): ServerError {
  const known: ServerCodeEntry = SERVER_CODES[code];
  return new ServerError(code, detail ?? known.message, { status: known.status, cause });
}

/** The table's entry for a code, if the code is the server's. */
export function serverCode(code: string): ServerCodeEntry | undefined {
  return Object.hasOwn(SERVER_CODES, code) ? SERVER_CODES[code as ServerCode] : undefined;
}

/** A request field refused (422), named by where it is (`["body", "url"]`), as Svix lists them. */
export class FieldError extends ServerError {
  override readonly name: string = 'FieldError';
  constructor(
    readonly loc: string[],
    readonly reason: string,
    code = 'HW_VALIDATION_FAILED',
  ) {
    super(code, `${loc.join('.')}: ${reason}`, { status: 422 });
  }
}

export const notFound = (what: string): ServerError => serverError('HW_NOT_FOUND', `${what} not found`);

export const conflict = (detail: string): ServerError => serverError('HW_CONFLICT', detail);

export const invalidOption = (field: string, why: string): ServerError =>
  serverError('HW_OPTION_INVALID', `option ${field}: ${why}`);

/**
 * The database cannot be reached or stopped answering (refused, reset, timed out, shutting down):
 * the operation may succeed when retried. Answered 503 so that callers back off instead of failing.
 */
export const storeUnavailable = (detail: string, cause?: unknown): ServerError =>
  serverError('HW_STORE_UNAVAILABLE', `the database is unavailable: ${detail}`, cause);

/** The database was migrated by a newer Hookwarden than this one: it refuses to run on it. */
export const schemaTooNew = (found: number, known: number): ServerError =>
  serverError(
    'HW_SCHEMA_TOO_NEW',
    `the database schema is at version ${found}, newer than this Hookwarden knows (${known}): upgrade Hookwarden`,
  );
