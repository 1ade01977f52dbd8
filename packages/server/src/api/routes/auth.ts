import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashToken } from '../auth.ts';
import { grantOf } from '../capabilities.ts';
import { type ApiDeps, appFor, forbidden, requireAdmin } from '../context.ts';
import { appPortalAccessIn, params, tokenExpireIn } from '../schemas.ts';
import { type AppBody, appOrCreate } from './applications.ts';

const DEFAULT_PORTAL_EXPIRY_SECONDS = 7 * 24 * 3600;

interface PortalAccessBody {
  expiry?: number | null;
  readOnly?: boolean | null;
  sessionId?: string | null;
  capabilities?: string[] | null;
  featureFlags?: string[];
  /** Created first if the path names no application yet (Svix's AppPortalAccessIn.application). */
  application?: AppBody | null;
}

export function authRoutes(api: FastifyInstance, deps: ApiDeps): void {
  // A per-application token: it sees that application's endpoints, messages and attempts, nothing
  // else, and within it only what its capabilities (or read-only mode) allow (capabilities.ts).
  async function portalAccess(req: FastifyRequest<{ Params: { app_id: string } }>, body: PortalAccessBody | undefined) {
    requireAdmin(req);
    const capabilities = grantOf(body);
    const { app } = await appOrCreate(deps, req, req.params.app_id, body?.application, ['body', 'application']);
    const token = `appsk_${randomBytes(32).toString('base64url')}`;
    const expiry = (body?.expiry ?? DEFAULT_PORTAL_EXPIRY_SECONDS) * 1000;
    await deps.store.createToken(hashToken(token).toString('hex'), app.id, deps.now() + expiry, {
      capabilities,
      sessionId: body?.sessionId ?? null,
      featureFlags: body?.featureFlags ?? null,
    });
    return { token, url: `${deps.publicUrl}/portal/#key=${token}` };
  }
  api.post<{ Params: { app_id: string }; Body: PortalAccessBody | undefined }>(
    '/api/v1/auth/app-portal-access/:app_id',
    { schema: { params: params.app, body: appPortalAccessIn }, config: { credential: true } },
    (req) => portalAccess(req, req.body),
  );
  // Svix's older name for the same thing. It takes no body: a token for the whole application with
  // the default expiry, whatever is sent (an unchecked body once made tokens that never expired).
  api.post<{ Params: { app_id: string } }>(
    '/api/v1/auth/dashboard-access/:app_id',
    { schema: { params: params.app }, config: { credential: true } },
    (req) => portalAccess(req, undefined),
  );

  // An application token ends itself; the admin token is not a session (change it to revoke it).
  api.post('/api/v1/auth/logout', async (req, reply) => {
    // An integration's key is no session either: rotating or deleting the integration ends it.
    if (req.scope.kind !== 'app' || req.scope.integration) throw forbidden();
    await deps.store.deleteToken(req.scope.tokenHash);
    return reply.code(204).send();
  });

  // Every token of an application (or of the given portal sessions) stops working, now or after
  // `expiry` seconds.
  api.post<{ Params: { app_id: string }; Body: { expiry?: number | null; sessionIds?: string[] } | undefined }>(
    '/api/v1/auth/app/:app_id/expire-all',
    { schema: { params: params.app, body: tokenExpireIn } },
    async (req, reply) => {
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      const at = deps.now() + (req.body?.expiry ?? 0) * 1000;
      await deps.store.expireTokens(app.id, at, req.body?.sessionIds);
      return reply.code(204).send();
    },
  );
}
