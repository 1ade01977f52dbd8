import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { createOperationalEvents } from '../operational.ts';
import { authenticate } from './auth.ts';
import { notPermitted, permits } from './capabilities.ts';
import { type ApiDeps, invalidField, type RouteDeps } from './context.ts';
import { MAX_JSON_DEPTH, pathTooDeep } from './depth.ts';
import { errorReply, internalReply, svixError } from './errors.ts';
import { idempotency } from './idempotency.ts';
import { openApiCollector } from './openapi.ts';
import { applicationRoutes } from './routes/applications.ts';
import { attemptRoutes } from './routes/attempts.ts';
import { authRoutes } from './routes/auth.ts';
import { backgroundTaskRoutes } from './routes/background-tasks.ts';
import { checkRoutes } from './routes/check.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { environmentRoutes } from './routes/environment.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { healthRoutes } from './routes/health.ts';
import { integrationRoutes } from './routes/integrations.ts';
import { messageRoutes } from './routes/messages.ts';
import { operationalWebhookRoutes } from './routes/operational-webhooks.ts';
import { statisticsRoutes } from './routes/statistics.ts';
import { validatorCompiler } from './validation.ts';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
  }
}

/** The Svix API v1, served by Fastify. Every route validates its input before touching the store. */
export function buildApi(given: ApiDeps, opts: { logger?: FastifyBaseLogger } = {}): FastifyInstance {
  const deps: RouteDeps = {
    ...given,
    operational:
      given.operational ??
      createOperationalEvents({ store: given.store, now: given.now, onEnqueued: given.onEnqueued }),
  };
  const api = Fastify({
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    requestIdHeader: 'x-request-id',
    // Svix's earlier API documents and the SDKs generated from them spell every path with a
    // trailing slash (`/api/v1/app/`); its server answers both forms, and so does this one.
    // Path parameters carry ids and uids of up to 256 characters (percent-encoded, up to three
    // times that); Fastify's default of 100 refused ids the API had just accepted.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    // Errors the router raises before any route runs (a malformed percent-escape, a parameter past
    // that length) answer in the API's shape too.
    frameworkErrors: (err, _req, reply) => {
      const { body } = svixError('HW_BAD_REQUEST', err.message);
      (reply as FastifyReply).code(err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400).send(body);
    },
  });
  const openapi = openApiCollector();
  api.setValidatorCompiler(validatorCompiler());
  api.addHook('onRoute', openapi.onRoute);
  api.decorateRequest('scope', undefined as never);

  api.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public || req.routeOptions.url === undefined) return;
    req.scope = await authenticate(deps, req);
  });

  // A portal token made with capabilities (or read-only) may call only the routes they cover.
  api.addHook('preHandler', async (req) => {
    const scope = req.scope;
    if (scope?.kind !== 'app' || scope.grant === null) return;
    if (!permits(scope.grant, req.method, req.routeOptions.url ?? '')) throw notPermitted();
  });

  // Before validation, which walks the body recursively too.
  api.addHook('preValidation', async (req) => {
    const at = pathTooDeep(req.body, MAX_JSON_DEPTH);
    if (at !== undefined) throw invalidField(['body', ...at], `nests deeper than ${MAX_JSON_DEPTH} levels`);
  });

  idempotency(api, deps);

  api.setErrorHandler((err, req, reply) => {
    const answer = errorReply(err, api.initialConfig.bodyLimit ?? DEFAULT_BODY_LIMIT) ?? internalReply();
    // A storage fault is logged once, when it begins (storage-health.ts), not with every request.
    if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter));
    else if (answer.status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(answer.status).send(answer.body);
  });

  api.setNotFoundHandler((req, reply) => {
    const { status, body } = svixError('HW_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(status).send(body);
  });

  applicationRoutes(api, deps);
  eventTypeRoutes(api, deps);
  endpointRoutes(api, deps);
  integrationRoutes(api, deps);
  messageRoutes(api, deps);
  attemptRoutes(api, deps);
  authRoutes(api, deps);
  backgroundTaskRoutes(api, deps);
  operationalWebhookRoutes(api, deps);
  environmentRoutes(api, deps);
  statisticsRoutes(api, deps);
  healthRoutes(api, deps);
  checkRoutes(api, deps);
  api.get('/api/v1/openapi.json', { config: { public: true } }, async () => openapi.document());
  return api;
}
