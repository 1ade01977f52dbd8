import { HookwardenError } from '@hookwarden/verify/errors';

/**
 * Errors of the endpoint checker. Only bad input throws (options, a URL that is not one, bytes that
 * are not TLS); everything the network does to a check is a finding in the report instead.
 */
export class CheckError extends HookwardenError {
  override readonly name = 'CheckError';
}

export const CHECK_ERROR_CODES = {
  /** An option of `runCheck` is missing or out of range; the message names the field. */
  optionsInvalid: 'HW_CHECK_OPTIONS_INVALID',
  /** The URL to check does not parse, or is not http(s). */
  urlInvalid: 'HW_CHECK_URL_INVALID',
  /** Bytes from the server are not a well-formed TLS record or handshake message. */
  tlsMalformed: 'HW_CHECK_TLS_MALFORMED',
} as const;
