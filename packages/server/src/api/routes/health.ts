import type { FastifyInstance } from 'fastify';
import { serverError } from '../../errors.ts';
import type { TrustDocument } from '../../trust.ts';
import type { Routes } from '../context.ts';

/** The trust document, or HW_TRUST_UNAVAILABLE (503) while no client certificate is configured. */
export async function trustOrFail(trust: () => Promise<TrustDocument | undefined>): Promise<TrustDocument> {
  const doc = await trust();
  if (!doc) throw serverError('HW_TRUST_UNAVAILABLE');
  return doc;
}

export function healthRoutes(api: FastifyInstance, { deps }: Routes): void {
  // Degraded while storage refuses writes: 503 with the fault's code, detail and Retry-After (the
  // error handler answers it), so that load balancers route around the node until it heals.
  api.get('/api/v1/health', { config: { public: true } }, async (_req, reply) => {
    const fault = deps.storageFault?.();
    if (fault) throw fault;
    return reply.code(204).send();
  });

  api.get('/api/v1/trust', { config: { public: true } }, async (req, reply) => {
    const doc = await trustOrFail(deps.trust);
    const etag = `"${doc.version}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=300');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return doc;
  });

  api.get('/api/v1/trust/ca-bundle.pem', { config: { public: true } }, async (_req, reply) => {
    const doc = await trustOrFail(deps.trust);
    return reply.header('content-type', 'application/x-pem-file').send(doc.caBundlePem);
  });

  if (deps.metrics) {
    const metrics = deps.metrics;
    api.get('/metrics', { config: { public: true } }, async (_req, reply) => {
      const m = await metrics();
      return reply.header('content-type', m.contentType).send(m.body);
    });
  }
}
