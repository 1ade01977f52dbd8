/**
 * node:http / node:https adapter: reads the raw body (capped), builds the VerifyRequest from the
 * socket and headers, and answers refusals with the error's status and `{code, detail}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { collectCapped } from './body.ts';
import { errorResponse, PolicyError, tableError, VerificationError } from './errors.ts';
import { tlsFactsFromSocket } from './tls.ts';
import type { Verified, Verifier, VerifyRequest } from './verifier.ts';

export { collectCapped } from './body.ts';
export { httpsServerOptions, tlsFactsFromSocket } from './tls.ts';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Reads the whole body, refusing more than `maxBytes` (HW_BODY_TOO_LARGE) before buffering it. */
export async function readBody(req: IncomingMessage, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new VerificationError('HW_BODY_TOO_LARGE');
  return collectCapped(req, maxBytes, () => new VerificationError('HW_BODY_TOO_LARGE'));
}

/**
 * The framework-neutral request of a node:http request whose body was read. Headers come from
 * `headersDistinct`: `req.headers` joins repeated lines with ", ", which hides a client's copy of a
 * proxy header sent ahead of the proxy's own; kept apart, the parsers refuse the repeat. Objects
 * that only look like an IncomingMessage (light-my-request, used by fastify.inject) lack it.
 */
export function toVerifyRequest(req: IncomingMessage, body: Uint8Array): VerifyRequest {
  const socket = req.socket as TLSSocket;
  const tls = socket.encrypted ? tlsFactsFromSocket(socket) : undefined;
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headersDistinct ?? req.headers,
    body,
    remoteAddress: socket.remoteAddress ?? '',
    ...(tls ? { tls } : {}),
  };
}

/** Answers a refusal. Anything that is not our error is a bug: 500, details kept out of the response. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, body } = errorResponse(err);
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface NodeHandlerOptions {
  maxBodyBytes?: number;
  /** Called with every refusal (for logs); never with secrets. */
  onRefused?: (err: unknown, req: IncomingMessage) => void;
}

export interface VerifiedHandlerOptions extends NodeHandlerOptions {
  /**
   * The one path verified (exact, query string aside, percent-escapes decoded), so that a health
   * check or another route on the same server is not refused; without it every request is.
   */
  path?: string;
  /** Answers the requests to other paths (default: 404 HW_NOT_FOUND). */
  otherwise?: (req: IncomingMessage, res: ServerResponse) => unknown;
}

export type VerifiedHandler<TPayload = unknown> = (
  req: IncomingMessage,
  res: ServerResponse,
  verified: { facts: Verified<TPayload>; body: Buffer },
) => void | Promise<void>;

/**
 * A `(req, res)` listener that verifies and then calls `handler` with the facts (the event is
 * `facts.payload`) and the raw body. `http.createServer(verifiedHandler(verifier, handler, { path }))`.
 */
export function verifiedHandler<TPayload>(
  verifier: Verifier<TPayload>,
  handler: VerifiedHandler<TPayload>,
  options: VerifiedHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { path, otherwise = notFound } = options;
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw new PolicyError('path', 'must be a path starting with /');
  }
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (path !== undefined && !isPath(req.url, path)) {
      await otherwise(req, res);
      return;
    }
    let verified: { facts: Verified<TPayload>; body: Buffer };
    try {
      const body = await readBody(req, max);
      verified = { facts: await verifier.verify(toVerifyRequest(req, body)), body };
    } catch (err) {
      options.onRefused?.(err, req);
      sendError(res, err);
      return;
    }
    try {
      await handler(req, res, verified);
    } catch (err) {
      sendError(res, err);
    }
  };
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  sendError(res, tableError('HW_NOT_FOUND'));
}

/** Whether the request target names `path`, however it spells it (origin or absolute form, escapes). */
function isPath(target = '/', path: string): boolean {
  let pathname: string;
  try {
    const url = target.startsWith('/') ? new URL(`http://request.invalid${target}`) : new URL(target);
    pathname = decodeURIComponent(url.pathname);
  } catch {
    // A target that does not decode is verified, not passed on: fail closed.
    return true;
  }
  return pathname === path;
}
