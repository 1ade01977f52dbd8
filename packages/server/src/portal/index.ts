import { timingSafeEqual } from 'node:crypto';
import { HookwardenError } from '@hookwarden/verify/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serverCode, serverError } from '../errors.ts';
import { CHECK_RETRY_AFTER_S } from '../services/checks.ts';
import { STORAGE_RETRY_AFTER_SECONDS, storageFault } from '../store/faults.ts';
import { ASSETS } from './assets.ts';
import { parseForm } from './forms.ts';
import { html } from './html.ts';
import { layout, type Page } from './layout.ts';
import type { CheckedPortalOptions } from './options.ts';
import { catalogPages } from './pages/catalog.ts';
import { deliveryPages } from './pages/deliveries.ts';
import { endpointPages } from './pages/endpoints.ts';
import { loginPages } from './pages/login.ts';
import { operatorPages } from './pages/operator.ts';
import { securityPages } from './pages/security.ts';
import { cookieNames, cookies, isSecure } from './session.ts';

export { checkPortalOptions, type PortalOptions } from './options.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may open a portal route: anyone, a signed-in session, or the operator's session only. */
    portal?: 'public' | 'signed-in' | 'operator';
    /** A sign-in form, whose token is the sign-in cookie's (there is no session yet). */
    signInForm?: boolean;
  }
}

/** Form bodies: a few PEM blocks at most. */
const FORM_LIMIT = 256 * 1024;

/** Sends a whole page, never kept by a cache (it may show a secret). */
export function sendPage(req: FastifyRequest, reply: FastifyReply, page: Page, status = 200) {
  return reply.code(status).type('text/html; charset=utf-8').send(layout(req, page));
}

/** Everything the portal's pages are built with. */
export type Portal = CheckedPortalOptions;

/**
 * The account portal, in its own Fastify scope (mounted at /portal): its own authentication
 * (session cookies), form bodies, CSRF tokens, security headers and HTML error pages, over the same
 * services as the API.
 */
export async function portalScope(scope: FastifyInstance, portal: CheckedPortalOptions): Promise<void> {
  const { services } = portal;
  const { deps, access } = services;
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${portal.frameAncestors}`,
  ].join('; ');

  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_req, body, done) => done(null, parseForm(body as string)),
  );
  scope.decorateRequest('portal', undefined as never);

  scope.addHook('onRequest', async (req, reply) => {
    reply.header('content-security-policy', csp);
    reply.header('x-content-type-options', 'nosniff');
    // Same-origin requests carry their origin (a form's Origin is `null` under no-referrer); no other
    // site ever learns a portal URL.
    reply.header('referrer-policy', 'same-origin');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cache-control', 'no-store');
    if (portal.frameAncestors === "'none'") reply.header('x-frame-options', 'DENY');
    const secure = isSecure(req, deps.publicUrl);
    const names = cookieNames(secure);
    req.portal = { secure, cookies: names };
    const cookie = cookies(req).get(names.session);
    const session = cookie ? await access.session(cookie) : undefined;
    if (session) {
      req.portal.session = session;
      req.portal.csrf = access.csrfToken(session.cookie);
      req.caller = { actor: session.actor, log: req.log };
    }
  });

  scope.addHook('preHandler', async (req, reply) => {
    // No such page: answered 404 as it is, signed in or not.
    if (req.routeOptions.url === undefined) return;
    const need = req.routeOptions.config.portal ?? 'signed-in';
    const session = req.portal.session;
    if (need !== 'public' && !session) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        return reply.redirect(need === 'operator' ? '/portal/operator/login' : '/portal/login', 303);
      }
      throw serverError('HW_SESSION_REQUIRED');
    }
    if (need === 'operator' && session?.actor.kind !== 'admin') throw serverError('HW_FORBIDDEN');
    if (req.method !== 'GET' && req.method !== 'HEAD') checkForm(req);
  });

  /**
   * Every form carries a token: the session's, or on a sign-in form the sign-in cookie's (there is
   * no session yet, and a form posted from elsewhere must not sign the browser in to another's
   * session). The Origin, when the browser sends one, must be this host.
   */
  function checkForm(req: FastifyRequest): void {
    const origin = req.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, req.host)) throw serverError('HW_CSRF_INVALID');
    const form = req.body instanceof URLSearchParams ? req.body : undefined;
    const token = form?.get('_csrf') ?? undefined;
    if (req.routeOptions.config.signInForm) {
      const expected = cookies(req).get(req.portal.cookies.login);
      if (!expected || !token || !equal(expected, token)) throw serverError('HW_CSRF_INVALID');
      return;
    }
    const session = req.portal.session;
    if (!session || !access.csrfValid(session.cookie, token)) throw serverError('HW_CSRF_INVALID');
  }

  scope.setErrorHandler((err: unknown, req, reply) => {
    const e = err as { code?: string; statusCode?: number; message?: string };
    // Its detail alone: the driver's words may name a host or a path. Logged once, by storage health.
    const fault = storageFault(err);
    if (fault) {
      reply.header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS));
      return sendPage(req, reply, errorPage(fault.status, fault.detail, fault.code), fault.status);
    }
    const known = err instanceof HookwardenError ? serverCode(err.code) : undefined;
    if (known && !known.internal) {
      if (e.code === 'HW_CHECK_BUSY') reply.header('retry-after', String(CHECK_RETRY_AFTER_S));
      return sendPage(req, reply, errorPage(known.status, e.message ?? '', e.code), known.status);
    }
    // Fastify's own refusals of the request (a body too large, of another type).
    if (!known && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return sendPage(req, reply, errorPage(e.statusCode, e.message ?? 'the request was refused'), e.statusCode);
    }
    req.log.error({ err }, 'portal request failed');
    return sendPage(req, reply, errorPage(500, 'Something went wrong on our side. Try again in a moment.'), 500);
  });

  scope.setNotFoundHandler((req, reply) => {
    req.portal ??= { secure: false, cookies: cookieNames(false) };
    return sendPage(req, reply, errorPage(404, 'There is no such page.'), 404);
  });

  scope.get<{ Params: { name: string } }>('/assets/:name', { config: { portal: 'public' } }, async (req, reply) => {
    const asset = ASSETS.get(req.params.name);
    if (!asset) throw serverError('HW_NOT_FOUND', 'There is no such file.');
    return reply.header('cache-control', 'public, max-age=31536000, immutable').type(asset.type).send(asset.body);
  });

  loginPages(scope, portal);
  endpointPages(scope, portal);
  deliveryPages(scope, portal);
  securityPages(scope, portal);
  catalogPages(scope, portal);
  operatorPages(scope, portal);
}

const TITLES: Record<number, string> = {
  400: 'The request was not understood',
  401: 'Sign in first',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Not a form',
  422: 'Not accepted',
  429: 'Busy',
  500: 'Something went wrong',
  503: 'Unavailable',
};

/** What a refused session is told: not the API's wording about tokens. */
const PORTAL_WORDING: Record<string, string> = {
  HW_FORBIDDEN: 'This session may not see or change that.',
};

function errorPage(status: number, given: string, code?: string): Page {
  const message = (code !== undefined ? PORTAL_WORDING[code] : undefined) ?? given;
  const signIn = status === 401 ? html`<p><a href="/portal/login">Sign in</a></p>` : html``;
  return {
    title: TITLES[status] ?? 'Error',
    section: 'none',
    body: html`<p class="notice bad" role="alert">${message}</p>${signIn}<p><a href="/portal/">Back to the portal</a></p>`,
  };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
