import { HookwardenError } from '@hookwarden/verify/errors';

/**
 * Stable codes of the delivery concern, each with the HTTP status an API answers with. Endpoint URL
 * refusals are validation errors (422, as Svix answers); the others describe our side. Never reuse
 * or rename a code: operators script against them.
 */
export const DELIVERY_CODES = {
  HW_ENDPOINT_URL_INVALID: 422,
  HW_ENDPOINT_URL_SCHEME: 422,
  HW_ENDPOINT_URL_HTTP_NOT_ALLOWED: 422,
  HW_ENDPOINT_URL_FORBIDDEN_ADDRESS: 422,
  HW_ENDPOINT_URL_UNRESOLVABLE: 422,
  HW_DELIVERY_OPTIONS_INVALID: 500,
  HW_DELIVERY_REQUEST_INVALID: 500,
  HW_DELIVERY_DNS_TIMEOUT: 504,
  HW_DELIVERY_CONNECT_TIMEOUT: 504,
  HW_DELIVERY_TLS_TIMEOUT: 504,
  HW_DELIVERY_HEADERS_TIMEOUT: 504,
  HW_DELIVERY_TIMEOUT: 504,
  HW_DELIVERY_CLOSED: 503,
  /** Internal: the reason the client gives undici for cutting a long answer short; never reported. */
  HW_DELIVERY_EXCERPT_FULL: 500,
} as const;

export type DeliveryCode = keyof typeof DELIVERY_CODES;

export class DeliveryError extends HookwardenError {
  override readonly name: string = 'DeliveryError';
  declare readonly code: DeliveryCode;
  /**
   * What the operator's log may say beyond `message` (which callers and the attempt log show), e.g.
   * the private address a host name resolved to. Never part of `toJSON()`.
   */
  readonly logDetail?: string;

  constructor(code: DeliveryCode, message: string, options: { cause?: unknown; logDetail?: string } = {}) {
    const { logDetail, ...rest } = options;
    super(code, message, { status: DELIVERY_CODES[code], ...rest });
    if (logDetail !== undefined) this.logDetail = logDetail;
  }
}

export function invalidOption(field: string, why: string): DeliveryError {
  return new DeliveryError('HW_DELIVERY_OPTIONS_INVALID', `delivery option '${field}' ${why}`);
}
