import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { hashToken } from '../auth.ts';
import { type ApiDeps, appFor, requireAdmin } from '../context.ts';
import { appPortalAccessIn, params } from '../schemas.ts';

const DEFAULT_PORTAL_EXPIRY_SECONDS = 7 * 24 * 3600;

export function authRoutes(api: FastifyInstance, deps: ApiDeps): void {
  // A per-application token: it sees that application's endpoints, messages and attempts, nothing else.
  api.post<{ Params: { app_id: string }; Body: { expiry?: number | null } | undefined }>(
    '/api/v1/auth/app-portal-access/:app_id',
    { schema: { params: params.app, body: appPortalAccessIn } },
    async (req) => {
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      const token = `appsk_${randomBytes(32).toString('base64url')}`;
      const expiry = (req.body?.expiry ?? DEFAULT_PORTAL_EXPIRY_SECONDS) * 1000;
      await deps.store.createToken(hashToken(token).toString('hex'), app.id, deps.now() + expiry);
      return { token, url: `${deps.publicUrl}/portal/#key=${token}` };
    },
  );
}
