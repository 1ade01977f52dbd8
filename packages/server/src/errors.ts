import { HookwardenError } from '@hookwarden/verify/errors';

/**
 * Failures of the delivery platform. Codes are stable; `status` is what the API answers, matching
 * the status codes of the Svix API v1 so that its SDKs raise the error they expect. The API answers
 * Svix's own codes for the cases Svix has (api/errors.ts).
 */
export class ServerError extends HookwardenError {
  override readonly name: string = 'ServerError';
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

export const notFound = (what: string): ServerError =>
  new ServerError('HW_NOT_FOUND', `${what} not found`, { status: 404 });

export const conflict = (detail: string): ServerError => new ServerError('HW_CONFLICT', detail, { status: 409 });

export const invalidOption = (field: string, why: string): ServerError =>
  new ServerError('HW_OPTION_INVALID', `option ${field}: ${why}`, { status: 500 });

/** The database was migrated by a newer Hookwarden than this one: it refuses to run on it. */
export const schemaTooNew = (found: number, known: number): ServerError =>
  new ServerError(
    'HW_SCHEMA_TOO_NEW',
    `the database schema is at version ${found}, newer than this Hookwarden knows (${known}): upgrade Hookwarden`,
    { status: 500 },
  );
