import type { FastifyInstance } from 'fastify';
import type { PortalAccessBody } from '../../services/access.ts';
import { appOf, type Routes } from '../context.ts';
import { appPortalAccessIn, params, tokenExpireIn } from '../schemas.ts';

type P = { app_id: string };

export function authRoutes(api: FastifyInstance, { services }: Routes): void {
  const { access } = services;

  // Never replayed for an Idempotency-Key: the answer is a credential.
  api.post<{ Params: P; Body: PortalAccessBody | undefined }>(
    '/api/v1/auth/app-portal-access/:app_id',
    { schema: { params: params.app, body: appPortalAccessIn }, config: { credential: true, action: 'access.grant' } },
    async (req) => {
      const { token, url } = await access.grant(req.caller, req.params.app_id, req.body);
      return { token, url };
    },
  );
  // Svix's older name for the same thing. It takes no body: a token for the whole application with
  // the default expiry, whatever is sent (an unchecked body once made tokens that never expired).
  api.post<{ Params: P }>(
    '/api/v1/auth/dashboard-access/:app_id',
    { schema: { params: params.app }, config: { credential: true, action: 'access.grant' } },
    async (req) => {
      const { token, url } = await access.grant(req.caller, req.params.app_id, undefined);
      return { token, url };
    },
  );

  // An application token ends itself; the admin token is not a session (change it to revoke it).
  api.post('/api/v1/auth/logout', { config: { action: 'access.end' } }, async (req, reply) => {
    await access.end(req.caller);
    return reply.code(204).send();
  });

  // Every token of an application (or of the given portal sessions) stops working, now or after
  // `expiry` seconds.
  api.post<{ Params: P; Body: { expiry?: number | null; sessionIds?: string[] } | undefined }>(
    '/api/v1/auth/app/:app_id/expire-all',
    { schema: { params: params.app, body: tokenExpireIn }, config: { action: 'access.revoke' } },
    async (req, reply) => {
      const app = await appOf(services, req);
      const at = services.deps.now() + (req.body?.expiry ?? 0) * 1000;
      await access.expireAll(req.caller, app, at, req.body?.sessionIds);
      return reply.code(204).send();
    },
  );
}
