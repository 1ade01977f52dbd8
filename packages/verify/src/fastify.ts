/**
 * Fastify plugin. It parses every content type as a raw Buffer (signatures are over bytes), so
 * register it in the scope of the webhook routes only; verifies in `preHandler`; the facts are in
 * `request.hookwarden`. Parse the JSON yourself from `request.body` once verified.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HookwardenError } from './errors.ts';
import { toVerifyRequest } from './node.ts';
import type { VerifiedFacts, Verifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    hookwarden?: VerifiedFacts;
  }
}

export interface FastifyVerifierOptions {
  /** Body limit of this scope's raw parser (default: the instance's `bodyLimit`). */
  maxBodyBytes?: number;
  /** Called with every refusal (for logs). */
  onRefused?: (err: unknown, request: FastifyRequest) => void;
}

export function fastifyVerifier(verifier: Verifier, options: FastifyVerifierOptions = {}): FastifyPluginAsync {
  const plugin = async (scope: FastifyInstance) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', ...(options.maxBodyBytes === undefined ? {} : { bodyLimit: options.maxBodyBytes }) },
      (_req, body, done) => done(null, body),
    );
    scope.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      try {
        request.hookwarden = await verifier.verify(toVerifyRequest(request.raw, body));
      } catch (err) {
        options.onRefused?.(err, request);
        const known = err instanceof HookwardenError;
        return reply
          .code(known ? err.status : 500)
          .send(known ? err.toJSON() : { code: 'HW_INTERNAL', detail: 'internal error' });
      }
    });
  };
  // What fastify-plugin does: apply to the scope it is registered in, not to a child scope.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
