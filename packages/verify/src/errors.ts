/**
 * The one error class of Hookwarden. Every failure has a stable `code` (documented, never reused),
 * a message that tells the user what to fix, and the HTTP status an adapter or the API answers.
 * Packages subclass it only to let callers `instanceof` by concern; the code is what matters.
 */
export class HookwardenError extends Error {
  override readonly name: string = 'HookwardenError';
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 400;
  }

  /** The `{code, detail}` body that APIs and the gate answer with. */
  toJSON(): { code: string; detail: string } {
    return { code: this.code, detail: this.message };
  }
}

export function isHookwardenError(err: unknown): err is HookwardenError {
  return err instanceof HookwardenError;
}

/**
 * What an adapter answers for any failure: a HookwardenError's status and `{code, detail}`; anything
 * else is 500 HW_INTERNAL without its message, which may carry internals.
 */
export function errorResponse(err: unknown): { status: number; body: { code: string; detail: string } } {
  return err instanceof HookwardenError
    ? { status: err.status, body: err.toJSON() }
    : {
        status: SETUP_CODES.HW_INTERNAL.status,
        body: { code: 'HW_INTERNAL', detail: SETUP_CODES.HW_INTERNAL.message },
      };
}

/** A table of stable codes, each with the status answered and the message when no detail is given. */
export type CodeTable = Record<string, { status: number; message: string }>;

/**
 * Every way a callback can fail verification, with the status an adapter answers. Codes are part of
 * the public contract (receivers branch on them, the gate logs them): add, never rename or reuse.
 * 401 = no credential presented, 403 = credential presented but not the platform's, 400 = malformed.
 */
export const VERIFICATION_CODES = {
  HW_HTTPS_REQUIRED: { status: 403, message: 'the callback did not arrive over HTTPS' },
  HW_CERT_MISSING: { status: 401, message: 'no client certificate was presented' },
  HW_CERT_INVALID: { status: 400, message: 'the client certificate could not be parsed' },
  HW_CERT_UNTRUSTED: { status: 403, message: 'the client certificate does not chain to a trusted CA' },
  HW_CERT_EXPIRED: { status: 403, message: 'the client certificate is outside its validity window' },
  HW_CERT_USAGE: { status: 403, message: 'the client certificate is not valid for client authentication' },
  HW_SUBJECT_MISMATCH: { status: 403, message: 'the client certificate subject is not the expected one' },
  HW_SAN_MISMATCH: { status: 403, message: 'the client certificate names none of the expected DNS names' },
  HW_PIN_MISMATCH: { status: 403, message: 'the client certificate matches none of the pinned fingerprints' },
  HW_PROXY_UNTRUSTED: { status: 403, message: 'proxy headers came from a peer that is not a trusted proxy' },
  HW_PROXY_HEADER_INVALID: { status: 400, message: 'a proxy header is malformed' },
  HW_FORWARDED_INVALID: { status: 400, message: 'a forwarded-for header is malformed' },
  HW_IP_DENIED: { status: 403, message: 'the client address is not in the allowlist' },
  HW_SIGNATURE_MISSING: { status: 401, message: 'the webhook signature headers are missing' },
  HW_SIGNATURE_INVALID: { status: 401, message: 'no webhook signature matches' },
  HW_TIMESTAMP_OUT_OF_RANGE: { status: 401, message: 'the webhook timestamp is outside the tolerance' },
  HW_REPLAYED: { status: 409, message: 'this webhook id was already accepted' },
  HW_TRUST_DOCUMENT_UNAVAILABLE: { status: 503, message: 'the platform trust document is not available yet' },
  HW_BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than the configured limit' },
  HW_BODY_INVALID: { status: 400, message: 'the request body could not be read as sent' },
  HW_BODY_NOT_JSON: { status: 400, message: 'the request body is not UTF-8 JSON' },
} as const satisfies CodeTable;

export type VerificationCode = keyof typeof VERIFICATION_CODES;

/**
 * Every other code this package throws or answers: an app or option set up wrong, input to a
 * parser that is not what it must be, or a failure of ours. Same contract as the refusals.
 */
export const SETUP_CODES = {
  HW_POLICY_INVALID: { status: 500, message: 'a verifier option cannot work' },
  HW_BODY_ALREADY_PARSED: { status: 500, message: 'the body was read or parsed before the verifier' },
  HW_BODY_NOT_READ: {
    status: 500,
    message: 'the body was passed as a function and no check read it: pass the bytes to read payload',
  },
  HW_CONNECTION_UNKNOWN: { status: 500, message: 'the request carries no socket facts: pass connection' },
  HW_NOT_FOUND: { status: 404, message: 'no callback is received at this path' },
  HW_NOT_VERIFIED: { status: 500, message: 'the request did not pass through the verifier' },
  HW_TRUST_DOCUMENT_INVALID: { status: 502, message: 'the trust document is invalid' },
  HW_DN_INVALID: { status: 400, message: 'not an RFC 4514 distinguished name' },
  HW_DN_DER_INVALID: { status: 400, message: 'the DER of a distinguished name cannot be decoded' },
  HW_PROXY_CONFIG_INVALID: { status: 400, message: 'a proxy configuration option is invalid' },
  HW_INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies CodeTable;

/** The package's error table: every code it throws or answers, with its status. */
export const ERROR_CODES = { ...VERIFICATION_CODES, ...SETUP_CODES } as const satisfies CodeTable;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error of the table with its status, where no subclass says more (setup errors of the adapters). */
export function tableError(code: ErrorCode, detail?: string): HookwardenError {
  const known = ERROR_CODES[code];
  return new HookwardenError(code, detail ?? known.message, { status: known.status });
}

/** A callback that failed verification: `code` says why, `status` is what to answer. */
export class VerificationError extends HookwardenError {
  override readonly name: string = 'VerificationError';
  declare readonly code: VerificationCode;

  constructor(code: VerificationCode, detail?: string, options: { cause?: unknown } = {}) {
    const known = VERIFICATION_CODES[code];
    super(code, detail ?? known.message, { status: known.status, cause: options.cause });
  }
}

/** A policy or option that cannot work, reported once at creation and naming the field. */
export class PolicyError extends HookwardenError {
  override readonly name: string = 'PolicyError';

  constructor(field: string, problem: string) {
    super('HW_POLICY_INVALID', `${field}: ${problem}`, { status: SETUP_CODES.HW_POLICY_INVALID.status });
  }
}
