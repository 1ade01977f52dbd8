import { HookwardenError } from '@hookwarden/verify/errors';

/**
 * Failures of the delivery platform. Codes are stable; `status` is what the API answers, matching
 * the status codes of the Svix API v1 so that its SDKs raise the error they expect.
 */
export class ServerError extends HookwardenError {
  override readonly name: string = 'ServerError';
}

export const notFound = (what: string): ServerError =>
  new ServerError('HW_NOT_FOUND', `${what} not found`, { status: 404 });

export const conflict = (detail: string): ServerError => new ServerError('HW_CONFLICT', detail, { status: 409 });

export const invalidOption = (field: string, why: string): ServerError =>
  new ServerError('HW_OPTION_INVALID', `option ${field}: ${why}`, { status: 500 });
