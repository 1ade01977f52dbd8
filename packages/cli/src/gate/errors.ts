import { type CodeTable, HookwardenError } from '@hookwarden/verify/errors';

/**
 * The gate's own failures (verification failures are the verifier's VerificationError codes).
 * Codes are stable: operators alert on them from the decision log. Add, never rename or reuse.
 */
export const GATE_CODES = {
  HW_GATE_CONFIG_INVALID: { status: 500, message: 'the gate configuration is invalid' },
  HW_GATE_BAD_TARGET: { status: 400, message: 'the request target must be a path starting with /' },
  HW_UPSTREAM_UNAVAILABLE: { status: 502, message: 'the upstream did not answer' },
  HW_GATE_BUSY: { status: 503, message: 'the gate holds as many request bodies as it may; retry later' },
  HW_BODY_TIMEOUT: { status: 408, message: 'the request body did not arrive in time' },
  // Logged only: the connection is closed before anything could be answered on it.
  HW_GATE_CLIENT_LIMIT: { status: 503, message: 'the client has as many connections open as it may' },
  HW_GATE_INTERNAL: { status: 500, message: 'the gate failed to handle the request' },
} as const satisfies CodeTable;

export type GateCode = keyof typeof GATE_CODES;

export class GateError extends HookwardenError {
  override readonly name: string = 'GateError';
  declare readonly code: GateCode;

  constructor(code: GateCode, detail?: string, options: { cause?: unknown } = {}) {
    super(code, detail ?? GATE_CODES[code].message, { status: GATE_CODES[code].status, cause: options.cause });
  }
}
