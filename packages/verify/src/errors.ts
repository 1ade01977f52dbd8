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
