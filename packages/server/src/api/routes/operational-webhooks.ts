import type { FastifyInstance } from 'fastify';
import type { Routes } from '../context.ts';
import { params } from '../schemas.ts';
import { endpointCrudRoutes } from './endpoint-crud.ts';

/**
 * The operator's endpoints for operational webhooks (Svix's `operationalWebhookEndpoint`): the
 * endpoint routes, mounted on the operator's reserved application, for the admin token only.
 */
export function operationalWebhookRoutes(api: FastifyInstance, r: Routes): void {
  endpointCrudRoutes(api, r, {
    base: '/api/v1/operational-webhook/endpoint',
    collectionSchema: {},
    oneParams: params.operationalEndpoint,
    appOf: (req) => r.services.operationalApp(req.caller),
    action: 'operational.manage',
  });
}
