import type { IncomingMessage } from 'node:http';
import { VerificationError } from '@hookwarden/verify/errors';
import { GateError } from './errors.ts';

/**
 * The bytes all requests together may hold buffered. A request takes its declared Content-Length
 * before reading (so slow senders cannot each hold a little and together a lot), a chunked one
 * takes each chunk as it arrives; both give everything back when the request is done.
 */
export class BodyBudget {
  #free: number;

  constructor(readonly total: number) {
    this.#free = total;
  }

  get buffered(): number {
    return this.total - this.#free;
  }

  take(bytes: number): boolean {
    if (bytes > this.#free) return false;
    this.#free -= bytes;
    return true;
  }

  give(bytes: number): void {
    this.#free = Math.min(this.total, this.#free + bytes);
  }
}

export interface BodyLimits {
  maxBytes: number;
  budget: BodyBudget;
  /** From the first byte asked for to the last received. */
  timeoutMs: number;
}

/** One request's reading: what it holds of the budget, to give back when the request is done. */
export interface BodyRead {
  body: Promise<Buffer>;
  /** Returns what this request took of the budget; call once, when the buffered body is dropped. */
  release(): void;
}

/**
 * Reads the whole body for signature verification: a declared length over `maxBytes` is refused
 * before reading (413), one the budget cannot hold too (503); an undeclared one as soon as it passes
 * either; a body that has not arrived within `timeoutMs` is 408. On refusal reading stops: the
 * caller answers with `Connection: close` and the rest is never buffered.
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): BodyRead {
  let held = 0;
  const release = () => {
    limits.budget.give(held);
    held = 0;
  };
  const body = new Promise<Buffer>((resolve, reject) => {
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && length > limits.maxBytes) {
      reject(
        new VerificationError('HW_BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limits.maxBytes}`),
      );
      return;
    }
    const busy = () =>
      new GateError('HW_GATE_BUSY', `the gate holds ${limits.budget.buffered} bytes of bodies, its limit: retry later`);
    if (length !== undefined) {
      if (!limits.budget.take(length)) {
        reject(busy());
        return;
      }
      held = length;
    }
    const parts: Buffer[] = [];
    let received = 0;
    const finish = (err: Error | undefined) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(parts, received));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBytes) {
        finish(new VerificationError('HW_BODY_TOO_LARGE', `the body exceeds ${limits.maxBytes} bytes`));
        return;
      }
      // A declared length was taken whole; Node ends the body there, so only a chunked one takes more.
      if (length === undefined) {
        if (!limits.budget.take(chunk.length)) {
          finish(busy());
          return;
        }
        held += chunk.length;
      }
      parts.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error) =>
      finish(new VerificationError('HW_BODY_INVALID', `reading the body failed: ${err.message}`));
    const onClose = () =>
      finish(new VerificationError('HW_BODY_INVALID', 'the client closed the connection before the body ended'));
    const timer = setTimeout(
      () => finish(new GateError('HW_BODY_TIMEOUT', `the body did not arrive within ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
  return { body, release };
}
