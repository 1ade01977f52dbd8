import type { FastifyInstance } from 'fastify';
import { ServerError } from '../../errors.ts';
import type { ApiDeps } from '../context.ts';

export function healthRoutes(api: FastifyInstance, deps: ApiDeps): void {
  // Degraded while storage refuses writes: 503 with the fault's code, detail and Retry-After (the
  // error handler answers it), so that load balancers route around the node until it heals.
  api.get('/api/v1/health', { config: { public: true } }, async (_req, reply) => {
    const fault = deps.storageFault?.();
    if (fault) throw fault;
    return reply.code(204).send();
  });

  api.get('/api/v1/trust', { config: { public: true } }, async (req, reply) => {
    const doc = await deps.trust();
    if (!doc) throw new ServerError('HW_TRUST_UNAVAILABLE', 'no client certificate is configured yet', { status: 503 });
    const etag = `"${doc.version}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=300');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return doc;
  });

  api.get('/api/v1/trust/ca-bundle.pem', { config: { public: true } }, async (_req, reply) => {
    const doc = await deps.trust();
    if (!doc) throw new ServerError('HW_TRUST_UNAVAILABLE', 'no client certificate is configured yet', { status: 503 });
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
