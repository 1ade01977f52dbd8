import { HookwardenError } from '@hookwarden/verify/errors';

/**
 * Stable codes of the certificate authority. Each names one thing to fix; the message says how.
 * Never reuse or rename a code: operators script against them.
 */
export const PKI_CODES = {
  OPTION_INVALID: 'HW_PKI_OPTION_INVALID',
  PEM_INVALID: 'HW_PKI_PEM_INVALID',
  KEY_INVALID: 'HW_PKI_KEY_INVALID',
  KEY_UNSUPPORTED: 'HW_PKI_KEY_UNSUPPORTED',
  KEY_MISMATCH: 'HW_PKI_KEY_MISMATCH',
  CERT_EXPIRED: 'HW_PKI_CERT_EXPIRED',
  CERT_NOT_YET_VALID: 'HW_PKI_CERT_NOT_YET_VALID',
  LEAF_IS_CA: 'HW_PKI_LEAF_IS_CA',
  EKU_MISSING: 'HW_PKI_EKU_MISSING',
  KEY_USAGE_MISSING: 'HW_PKI_KEY_USAGE_MISSING',
  CHAIN_BROKEN: 'HW_PKI_CHAIN_BROKEN',
  CHAIN_NOT_CA: 'HW_PKI_CHAIN_NOT_CA',
  CHAIN_TOO_DEEP: 'HW_PKI_CHAIN_TOO_DEEP',
  STORE_EXISTS: 'HW_PKI_STORE_EXISTS',
  STORE_MISSING: 'HW_PKI_STORE_MISSING',
  STORE_CORRUPT: 'HW_PKI_STORE_CORRUPT',
  STORE_PERMISSIONS: 'HW_PKI_STORE_PERMISSIONS',
  STORE_UNAVAILABLE: 'HW_PKI_STORE_UNAVAILABLE',
  NO_CA: 'HW_PKI_NO_CA',
  NO_NEXT: 'HW_PKI_NO_NEXT',
  NEXT_EXISTS: 'HW_PKI_NEXT_EXISTS',
  CA_EXPIRING: 'HW_PKI_CA_EXPIRING',
} as const;

export type PkiCode = (typeof PKI_CODES)[keyof typeof PKI_CODES];

/** Every failure of @hookwarden/pki: a HookwardenError with an HW_PKI_* code. */
export class PkiError extends HookwardenError {
  override readonly name = 'PkiError';
  declare readonly code: PkiCode;

  constructor(code: PkiCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { status: 400, ...options });
  }
}

export function optionError(field: string, problem: string): PkiError {
  return new PkiError(PKI_CODES.OPTION_INVALID, `${field}: ${problem}`);
}
