/**
 * Hono middleware. Reads the raw body (Hono caches it, so `c.req.json()` still works afterwards),
 * verifies, and stores the facts as `c.get('hookwarden')` (the event is its `payload`). The socket (peer address, TLS) comes
 * from @hono/node-server's `c.env.incoming`; on other runtimes pass `connection`.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyAlreadyParsed, collectCapped } from './body.ts';
import { errorResponse, tableError, VerificationError } from './errors.ts';
import { DEFAULT_MAX_BODY_BYTES, toVerifyRequest } from './node.ts';
import type { Headers } from './signature.ts';
import type { Verified, Verifier, VerifyRequest } from './verifier.ts';

export type HonoVerifiedVariables<TPayload = unknown> = { hookwarden: Verified<TPayload> };

export interface HonoVerifierOptions {
  maxBodyBytes?: number;
  /** The socket facts where there is no node:http request (other runtimes). */
  connection?: (c: Context) => Pick<VerifyRequest, 'remoteAddress' | 'tls'>;
  onRefused?: (err: unknown, c: Context) => void;
}

export function honoVerifier<TPayload = unknown>(
  verifier: Verifier<TPayload>,
  options: HonoVerifierOptions = {},
): MiddlewareHandler<{ Variables: HonoVerifiedVariables<TPayload> }> {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (c, next) => {
    let facts: Verified<TPayload>;
    try {
      const declared = Number(c.req.header('content-length') ?? 0);
      if (declared > max) throw new VerificationError('HW_BODY_TOO_LARGE');
      const body = await readCapped(c, max);
      const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
      let request: VerifyRequest;
      if (incoming?.socket) request = toVerifyRequest(incoming, body);
      else if (options.connection) {
        const headers: Headers = {};
        c.req.raw.headers.forEach((value, name) => {
          headers[name] = value;
        });
        request = { method: c.req.method, url: c.req.url, headers, body, ...options.connection(c) };
      } else {
        throw tableError('HW_CONNECTION_UNKNOWN', 'no node:http request: pass options.connection');
      }
      facts = await verifier.verify(request);
    } catch (err) {
      options.onRefused?.(err, c);
      const { status, body } = errorResponse(err);
      return c.json(body, status as 400);
    }
    c.set('hookwarden', facts);
    await next();
  };
}

/**
 * Reads the body, stopping at `max` bytes (a chunked body has no length to check up front), then
 * hands the bytes to Hono's body cache so that `c.req.json()` / `text()` still work in handlers.
 * When a middleware before us read the body, only a cached arrayBuffer or blob holds the bytes as
 * sent: Hono rebuilds the others from decoded text (BOM stripped, invalid UTF-8 replaced, forms
 * re-encoded), and a signature checked over that rebuild is checked over other bytes.
 */
async function readCapped(c: Context, max: number): Promise<Uint8Array> {
  const cache = c.req.bodyCache as Record<string, Promise<unknown> | undefined>;
  const raw = c.req.raw;
  const cached = await rawCached(cache);
  if (cached) {
    if (cached.byteLength > max) throw new VerificationError('HW_BODY_TOO_LARGE');
    return cached;
  }
  if (Object.keys(cache).length > 0 || raw.bodyUsed) {
    throw bodyAlreadyParsed('a middleware read the body as text, JSON or a form first: mount honoVerifier before it');
  }
  if (!raw.body) return new Uint8Array();
  const body = await collectCapped(raw.body, max, () => new VerificationError('HW_BODY_TOO_LARGE'));
  const copy = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  cache.arrayBuffer = Promise.resolve(copy);
  return new Uint8Array(body);
}

/** The raw bytes in Hono's cache: what `arrayBuffer()` or `blob()` read straight from the request. */
async function rawCached(cache: Record<string, Promise<unknown> | undefined>): Promise<Uint8Array | undefined> {
  if (cache.arrayBuffer) return new Uint8Array((await cache.arrayBuffer) as ArrayBuffer);
  if (cache.blob) return new Uint8Array(await ((await cache.blob) as Blob).arrayBuffer());
  return undefined;
}
