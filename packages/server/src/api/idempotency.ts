import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OPERATIONAL_APP_ID } from '../operational.ts';
import type { ApiDeps } from './context.ts';

/** How long an Idempotency-Key replays its first answer (Svix keeps them about a day). */
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const MAX_KEY_LENGTH = 256;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The answer carries a credential: never kept for replay. */
    credential?: boolean;
  }
  interface FastifyRequest {
    idempotencyScope?: string;
    /** Lets retries of this request that wait for it go on. */
    idempotencyRelease?: () => void;
  }
}

/**
 * Idempotency-Key: a retried POST gets the first answer back instead of acting twice.
 *
 * The scope is who asks and which request it is: the route's pattern with its parameters, the
 * application resolved to its id. The same request spelled with the application's uid, a trailing
 * slash or another query string is the same request (keyed by the raw URL, each spelling acted
 * again). A request whose application did not exist yet (a message creating it inline) is kept
 * under the uid as sent, which its retries look up too, once the uid names an application.
 *
 * A retry that arrives while the first request is still running waits for it and replays its answer:
 * SDKs retry on a timeout, when the first attempt may still be at work, and both acted. One process
 * serves a data directory, so the requests in flight here are all there are.
 *
 * Routes whose answer carries a credential (portal tokens) are left out: their answer would be kept
 * in clear, where tokens are stored only as digests, and replayed after the token was revoked.
 */
export function idempotency(api: FastifyInstance, deps: ApiDeps): void {
  const running = new Map<string, Promise<void>>();

  api.addHook('preHandler', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (req.method !== 'POST' || typeof key !== 'string' || !req.caller) return;
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || req.routeOptions.config.credential) return;
    const scopes = await scopesOf(deps, req);
    for (;;) {
      let first: Promise<void> | undefined;
      for (const scope of scopes) {
        const hit = await deps.store.getIdempotent(scope, key, deps.now());
        if (hit) {
          reply.header('idempotent-replayed', 'true').code(hit.status).type('application/json');
          return reply.send(hit.body.length ? hit.body : undefined);
        }
        first ??= running.get(`${scope}\n${key}`);
      }
      if (first === undefined) break;
      // Settled when the first request's answer is stored, or when it ended without one (an error
      // answer, which is not kept): then this one acts, as a first request would.
      await first;
    }
    const scope = scopes[0] as string;
    const slot = `${scope}\n${key}`;
    let settle!: () => void;
    running.set(
      slot,
      new Promise<void>((resolve) => {
        settle = resolve;
      }),
    );
    req.idempotencyScope = scope;
    req.idempotencyRelease = () => {
      req.idempotencyRelease = undefined;
      running.delete(slot);
      settle();
    };
  });

  // The handler is done (answered or failed): its answer is kept for retries, then they go on.
  api.addHook('onSend', async (req, reply, payload) => {
    const key = req.headers['idempotency-key'];
    try {
      if (req.idempotencyScope && typeof key === 'string' && reply.statusCode < 500 && reply.statusCode !== 409) {
        const body = typeof payload === 'string' ? payload : '';
        await deps.store.putIdempotent(
          req.idempotencyScope,
          key,
          reply.statusCode,
          body,
          deps.now() + IDEMPOTENCY_TTL_MS,
        );
      }
    } finally {
      req.idempotencyRelease?.();
    }
    return payload;
  });
  // However the request ended, its key is not held past it.
  api.addHook('onResponse', async (req) => {
    req.idempotencyRelease?.();
  });
}

/**
 * Who asks, and the request as its route names it: first with the application's id for its uid (the
 * scope a new answer is kept under), then as sent, if that differs.
 */
async function scopesOf(deps: ApiDeps, req: FastifyRequest): Promise<string[]> {
  const actor = req.caller.actor;
  const who = actor.kind === 'admin' ? 'admin' : actor.appId;
  const asSent = req.params as Record<string, string>;
  const scopeWith = (params: Record<string, string>) => `${who} ${req.routeOptions.url} ${JSON.stringify(params)}`;
  if (typeof asSent.app_id !== 'string') return [scopeWith(asSent)];
  const app = await deps.store.getApplication(asSent.app_id);
  // Unknown (the handler answers 404, or creates it) or the operator's own: left as given.
  if (!app || app.id === OPERATIONAL_APP_ID || app.id === asSent.app_id) return [scopeWith(asSent)];
  return [scopeWith({ ...asSent, app_id: app.id }), scopeWith(asSent)];
}
