/**
 * Fastify plugin around the routes it guards: `app.register(fastifyVerifier(verifier, routes))`.
 * It is a scope of its own (Fastify's encapsulation), so wherever it is registered, only `routes`
 * are verified and read as raw Buffers (signatures are over bytes); every other route keeps the
 * app's parsers and answers unverified, a health check included. Verifies in `preHandler`; the
 * facts are in `request.hookwarden`, the event is `request.hookwarden.payload`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { bodyAlreadyParsed } from './body.ts';
import { errorResponse, type HookwardenError, PolicyError, tableError, VerificationError } from './errors.ts';
import { toVerifyRequest } from './node.ts';
import type { Verified, Verifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on the routes of a fastifyVerifier scope. */
    hookwarden?: Verified;
  }
}

/**
 * Declares the guarded routes on the scope it is given (`scope.post(...)`), and only those.
 * `verified(request)` is `request.hookwarden` typed with the verifier's payload.
 */
export type FastifyGuardedRoutes<TPayload = unknown> = (
  scope: FastifyInstance,
  verified: (request: FastifyRequest) => Verified<TPayload>,
) => void | Promise<void>;

export interface FastifyVerifierOptions {
  /** Body limit of this scope's raw parser (default: the instance's `bodyLimit`). */
  maxBodyBytes?: number;
  /** Called with every refusal (for logs). */
  onRefused?: (err: unknown, request: FastifyRequest) => void;
}

/** Fastify's body-reading failures as our errors; undefined for any other error. */
function bodyError(error: unknown): HookwardenError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('FST_ERR_CTP_')) return undefined;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new VerificationError('HW_BODY_TOO_LARGE');
  return new VerificationError('HW_BODY_INVALID', (error as Error).message);
}

/** Whether the request carries a body, by its framing (RFC 9112 §6.3). */
function hasBody(request: FastifyRequest): boolean {
  const { headers } = request.raw;
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * The raw bytes this plugin's parser kept. Anything else while the request had a body means a
 * parser added to the scope after the plugin (JSON, form) turned it into a value: checking the
 * signature over an empty body then would let a signature of a body-less message vouch for any
 * payload. Refused as the Express adapter does.
 */
function rawBody(request: FastifyRequest): Buffer {
  if (Buffer.isBuffer(request.body)) return request.body;
  if ((request.body === undefined || request.body === null) && !hasBody(request)) return Buffer.alloc(0);
  throw bodyAlreadyParsed(
    'the body is not the raw bytes: add no content-type parser to the scope of fastifyVerifier; parse request.body once verified',
  );
}

function verifiedFacts<TPayload>(request: FastifyRequest): Verified<TPayload> {
  if (!request.hookwarden) throw tableError('HW_NOT_VERIFIED', 'this request is not on a route of fastifyVerifier');
  return request.hookwarden as Verified<TPayload>;
}

export function fastifyVerifier<TPayload = unknown>(
  verifier: Verifier<TPayload>,
  routes: FastifyGuardedRoutes<TPayload>,
  options: FastifyVerifierOptions = {},
): FastifyPluginAsync {
  if (typeof routes !== 'function') {
    throw new PolicyError(
      'routes',
      'must be a function declaring the routes to verify: (scope) => { scope.post(...) }',
    );
  }
  return async (scope: FastifyInstance) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', ...(options.maxBodyBytes === undefined ? {} : { bodyLimit: options.maxBodyBytes }) },
      (_req, body, done) => done(null, body),
    );
    // Fastify reads the body before any hook runs and answers its own errors in its own shape:
    // translate those of this scope's parser (over the limit, length mismatch) to {code, detail}.
    // Anything else goes to the handler that was in place.
    const previous = scope.errorHandler;
    scope.setErrorHandler((error, request, reply) => {
      const translated = bodyError(error);
      if (!translated) return previous.call(scope, error, request, reply);
      options.onRefused?.(translated, request);
      return reply.code(translated.status).send(translated.toJSON());
    });
    scope.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        request.hookwarden = await verifier.verify(toVerifyRequest(request.raw, rawBody(request)));
      } catch (err) {
        options.onRefused?.(err, request);
        const { status, body } = errorResponse(err);
        return reply.code(status).send(body);
      }
    });
    await routes(scope, verifiedFacts<TPayload>);
  };
}
