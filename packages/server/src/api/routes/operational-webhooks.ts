import type { FastifyInstance } from 'fastify';
import { type RouteDeps, requireAdmin } from '../context.ts';
import { params } from '../schemas.ts';
import { endpointCrudRoutes } from './endpoint-crud.ts';

/**
 * The operator's endpoints for operational webhooks (Svix's `operationalWebhookEndpoint`): the
 * endpoint routes, mounted on the operator's reserved application, for the admin token only.
 */
export function operationalWebhookRoutes(api: FastifyInstance, deps: RouteDeps): void {
  endpointCrudRoutes(api, deps, {
    base: '/api/v1/operational-webhook/endpoint',
    collectionSchema: {},
    oneParams: params.operationalEndpoint,
    appOf: async (req) => {
      requireAdmin(req);
      return deps.operational.app();
    },
    operationalEvents: false,
  });
}
