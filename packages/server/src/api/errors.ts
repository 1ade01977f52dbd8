import { HookwardenError } from '@hookwarden/verify/errors';
import type { FastifyError } from 'fastify';
import { FieldError } from '../errors.ts';
import { STORAGE_FAULTS, STORAGE_RETRY_AFTER_SECONDS, storageFault } from '../store/faults.ts';

/** One problem of a refused request, as Svix's 422 lists them. */
export interface ValidationItem {
  loc: string[];
  msg: string;
  type: string;
}

/** What the API answers for a failure. */
export interface ErrorReply {
  status: number;
  body: { code: string; detail: string | ValidationItem[] };
  /** Seconds, answered as Retry-After. */
  retryAfter?: number;
}

/**
 * The server's failures that Svix's API has a case for, with Svix's status and code (its server's
 * `HttpError`): clients written against Svix branch on these. Svix's 422 body carries `detail`
 * alone; ours adds `code` so that every error has one. Svix spells its 403 code with a space.
 */
export const SVIX_ERRORS = {
  HW_BAD_REQUEST: { status: 400, code: 'generic_error' },
  HW_PAYLOAD_EXPUNGED: { status: 400, code: 'missing_payload' },
  HW_AUTH_FAILED: { status: 401, code: 'authentication_failed' },
  HW_FORBIDDEN: { status: 403, code: 'insufficient access' },
  HW_NOT_FOUND: { status: 404, code: 'not_found' },
  HW_CONFLICT: { status: 409, code: 'conflict' },
  HW_EVENT_TYPE_EXISTS: { status: 409, code: 'event_type_exists' },
  HW_PAYLOAD_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  HW_VALIDATION_FAILED: { status: 422, code: 'validation_error' },
  HW_INTERNAL: { status: 500, code: 'server_error' },
} as const satisfies Record<string, { status: number; code: string }>;

/**
 * Hookwarden's own failures that reach a caller with their own code, because Svix has no such
 * case: the endpoint checker, the trust document, and the refusals of an endpoint's URL, TLS
 * settings or policy, which are 422s in Svix's shape naming the field, with our code saying which
 * rule refused it; and storage faults (store/faults.ts), answered with Retry-After and a detail
 * that names what is wrong and nothing of where. Any other failure is internal: answered as `server_error`, without its message.
 */
export const OWN_ERRORS = {
  HW_CHECK_URL_INVALID: 400,
  HW_CHECK_BUSY: 429,
  HW_CHECK_UNAVAILABLE: 503,
  HW_TRUST_UNAVAILABLE: 503,
  HW_ENDPOINT_URL_INVALID: 422,
  HW_ENDPOINT_URL_SCHEME: 422,
  HW_ENDPOINT_URL_HTTP_NOT_ALLOWED: 422,
  HW_ENDPOINT_URL_FORBIDDEN_ADDRESS: 422,
  HW_ENDPOINT_URL_UNRESOLVABLE: 422,
  HW_POLICY_INVALID: 422,
  HW_STORE_FULL: 503,
  HW_STORE_READ_ONLY: 503,
  HW_STORE_UNAVAILABLE: 503,
  HW_STORE_BUSY: 503,
} as const satisfies Record<string, number>;

type SvixCase = keyof typeof SVIX_ERRORS;

/** Every code the API may answer with: the list a client can branch on. */
export const WIRE_CODES: readonly string[] = [
  ...Object.values(SVIX_ERRORS).map((e) => e.code),
  ...Object.keys(OWN_ERRORS),
];

/** The answer for one of Svix's cases, with our detail. */
export function svixError(kind: SvixCase, detail: string | ValidationItem[]): ErrorReply {
  const e = SVIX_ERRORS[kind];
  return { status: e.status, body: { code: e.code, detail } };
}

const LOCATION: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** Schema validation's findings, each named where Svix names it (`["body", "field"]`). */
function schemaItems(err: FastifyError): ValidationItem[] {
  const where = LOCATION[err.validationContext ?? 'body'] ?? 'body';
  return (err.validation ?? []).map((v) => {
    const path = v.instancePath.split('/').filter(Boolean);
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    return {
      loc: [where, ...path, ...(missing ? [missing] : [])],
      msg: v.message ?? 'invalid',
      type: `value_error.${v.keyword}`,
    };
  });
}

/** A failure of ours: Svix's code for its cases, our own for the others, 422s as Svix lists them. */
function ownReply(err: HookwardenError): ErrorReply | undefined {
  const svix = SVIX_ERRORS[err.code as SvixCase];
  const status = svix?.status ?? OWN_ERRORS[err.code as keyof typeof OWN_ERRORS];
  // In neither table: a failure of ours (the store's thread, an option), not the caller's.
  if (status === undefined) return undefined;
  const code = svix?.code ?? err.code;
  if (status !== 422) return { status, body: { code, detail: err.message } };
  const [loc, msg] = err instanceof FieldError ? [err.loc, err.reason] : [['body'], err.message];
  return { status, body: { code, detail: [{ loc, msg, type: 'value_error' }] } };
}

/**
 * What the API answers for any error a route or Fastify raised; `undefined` for an internal
 * failure, which the caller logs and answers as `server_error` without its message.
 */
export function errorReply(err: unknown, bodyLimit: number): ErrorReply | undefined {
  const e = err as FastifyError;
  if (e?.validation) return svixError('HW_VALIDATION_FAILED', schemaItems(e));
  // Also a driver's own error, from a store that did not classify it.
  const fault = storageFault(err);
  if (fault) {
    const body = { code: fault.code, detail: STORAGE_FAULTS[fault.code] };
    return { status: OWN_ERRORS[fault.code], body, retryAfter: STORAGE_RETRY_AFTER_SECONDS };
  }
  if (err instanceof HookwardenError) return ownReply(err);
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return svixError('HW_PAYLOAD_TOO_LARGE', `request body exceeds ${bodyLimit} bytes`);
    // Svix reads every body as JSON and answers one that is not with a 422 on the body.
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return svixError('HW_VALIDATION_FAILED', [
        { loc: ['body'], msg: 'the request body is not valid JSON', type: 'value_error.jsondecode' },
      ]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { code: SVIX_ERRORS.HW_BAD_REQUEST.code, detail: 'send application/json' } };
  }
  // Fastify's own 4xx: the status kept, Svix's generic code.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { code: SVIX_ERRORS.HW_BAD_REQUEST.code, detail: e.message } };
  }
  return undefined;
}

/** The answer to an internal failure: nothing of it is told. */
export const internalReply = (): ErrorReply => svixError('HW_INTERNAL', 'internal error');
