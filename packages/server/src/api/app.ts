import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { createOperationalEvents } from '../operational.ts';
import { checkPortalOptions, type PortalOptions, portalScope } from '../portal/index.ts';
import { authorize, forbidden } from '../services/actor.ts';
import { CHECK_RETRY_AFTER_S } from '../services/checks.ts';
import { createServices } from '../services/index.ts';
import { authenticate } from './auth.ts';
import type { ApiDeps, Routes } from './context.ts';
import { invalidField } from './context.ts';
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

/**
 * The server's HTTP side: the Svix API v1 and, when `portal` is given, the account portal, each in
 * its own Fastify scope (authentication, body parsers, error pages) over one set of services.
 */
export function buildApi(
  given: ApiDeps,
  opts: { logger?: FastifyBaseLogger; portal?: Omit<PortalOptions, 'services'> } = {},
): FastifyInstance {
  // `publicUrl` is read when used: the server knows its own address only once it listens.
  const operational =
    given.operational ?? createOperationalEvents({ store: given.store, now: given.now, onEnqueued: given.onEnqueued });
  const services = createServices(
    Object.defineProperty({ ...given, operational }, 'publicUrl', { get: () => given.publicUrl, enumerable: true }),
  );
  const bodyLimit = given.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const root = Fastify({
    bodyLimit,
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    // One line per request, written when it is answered (below), instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
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
  root.decorateRequest('caller', undefined as never);
  root.addHook('onResponse', async (req, reply) => {
    // The path without its query string, which may carry a key or a token.
    req.log.info(
      {
        method: req.method,
        path: req.url.split('?')[0],
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  root.register(async (api) => apiScope(api, { deps: given, services }, bodyLimit));
  if (opts.portal) {
    // Checked now: a bad option fails the server's creation, naming the field.
    const portal = checkPortalOptions({ ...opts.portal, services });
    root.register(async (scope) => portalScope(scope, portal), { prefix: '/portal' });
    root.get('/', async (_req, reply) => reply.redirect('/portal/', 302));
  }
  // Outside every route: the API's answer, whatever the path (the portal answers its own).
  root.setNotFoundHandler((req, reply) => {
    const { status, body } = svixError('HW_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(status).send(body);
  });
  return root;
}

/** The Svix API v1. Every route validates its input before touching the store. */
function apiScope(api: FastifyInstance, r: Routes, bodyLimit: number): void {
  const { services } = r;
  const openapi = openApiCollector();
  api.setValidatorCompiler(validatorCompiler());
  api.addHook('onRoute', openapi.onRoute);

  api.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public || req.routeOptions.url === undefined) return;
    req.caller = { actor: await authenticate(services, req), log: req.log };
  });

  // The services check every call; the route's declared action is checked before it runs as well,
  // so that a refused request is neither kept for its Idempotency-Key nor costs a lookup. A route
  // that declares none is the operator's (fail closed).
  api.addHook('preHandler', async (req) => {
    if (req.routeOptions.config.public || req.caller === undefined) return;
    const action = req.routeOptions.config.action;
    if (action !== undefined) authorize(req.caller.actor, action);
    else if (req.caller.actor.kind !== 'admin') throw forbidden();
  });

  // Before validation, which walks the body recursively too.
  api.addHook('preValidation', async (req) => {
    const at = pathTooDeep(req.body, MAX_JSON_DEPTH);
    if (at !== undefined) throw invalidField(['body', ...at], `nests deeper than ${MAX_JSON_DEPTH} levels`);
  });

  idempotency(api, r.deps);

  api.setErrorHandler((err, req, reply) => {
    const answer = errorReply(err, bodyLimit) ?? internalReply();
    // A storage fault is logged once, when it begins (storage-health.ts), not with every request.
    if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter));
    else if (answer.status >= 500) req.log.error({ err }, 'request failed');
    if ((err as { code?: string }).code === 'HW_CHECK_BUSY') reply.header('retry-after', String(CHECK_RETRY_AFTER_S));
    return reply.code(answer.status).send(answer.body);
  });

  applicationRoutes(api, r);
  eventTypeRoutes(api, r);
  endpointRoutes(api, r);
  integrationRoutes(api, r);
  messageRoutes(api, r);
  attemptRoutes(api, r);
  authRoutes(api, r);
  backgroundTaskRoutes(api, r);
  operationalWebhookRoutes(api, r);
  environmentRoutes(api, r);
  statisticsRoutes(api, r);
  healthRoutes(api, r);
  checkRoutes(api, r);
  api.get('/api/v1/openapi.json', { config: { public: true } }, async () => openapi.document());
}
