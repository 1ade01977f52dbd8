import { HookwardenError } from '@hookwarden/verify/errors';
import type { FastifyError } from 'fastify';
import { FieldError, SERVER_CODES, type ServerCode, serverCode } from '../errors.ts';
import { STORAGE_RETRY_AFTER_SECONDS, storageFault } from '../store/faults.ts';

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

type Codes = typeof SERVER_CODES;
type SvixCase = { [K in keyof Codes]: Codes[K] extends { svix: string } ? K : never }[keyof Codes];
type OwnCase = {
  [K in keyof Codes]: Codes[K] extends { svix: string } | { internal: true } ? never : K;
}[keyof Codes];
const entries = Object.entries(SERVER_CODES) as [ServerCode, (typeof SERVER_CODES)[ServerCode]][];

/**
 * The server's failures that Svix's API has a case for, with Svix's status and code (from the one
 * table, errors.ts). Svix's 422 body carries `detail` alone; ours adds `code` so that every error
 * has one.
 */
export const SVIX_ERRORS = Object.fromEntries(
  entries.flatMap(([k, e]) => ('svix' in e ? [[k, { status: e.status, code: e.svix }]] : [])),
) as { [K in SvixCase]: { status: Codes[K]['status']; code: Codes[K] extends { svix: infer S } ? S : never } };

/**
 * Hookwarden's own failures that reach a caller with their own code, because Svix has no such
 * case: the endpoint checker, the trust document, the refusals of an endpoint's URL, TLS settings
 * or policy (422s in Svix's shape naming the field, with our code saying which rule refused it),
 * the portal's, and storage faults (store/faults.ts). Any other failure is internal: answered as `server_error`, without its message.
 */
export const OWN_ERRORS = Object.fromEntries(
  entries.flatMap(([k, e]) => ('svix' in e || 'internal' in e ? [] : [[k, e.status]])),
) as { [K in OwnCase]: Codes[K]['status'] };

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
  const entry = serverCode(err.code);
  // Not in the table, or internal: a failure of ours (the store's thread, an option), not the caller's.
  if (entry === undefined || entry.internal) return undefined;
  const { status } = entry;
  const code = entry.svix ?? err.code;
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
    const body = { code: fault.code, detail: fault.detail };
    return { status: fault.status, body, retryAfter: STORAGE_RETRY_AFTER_SECONDS };
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
