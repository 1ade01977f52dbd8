import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PortalSession } from '../../services/access.ts';
import { type Form, text } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { type Portal, sendPage } from '../index.ts';
import { setCookie } from '../session.ts';
import { field } from './common.ts';

/** How long a sign-in form stays usable. */
const SIGN_IN_FORM_MS = 30 * 60_000;

/** Where a session lands: the operator on the console, a customer on its application's endpoints. */
const home = (s: PortalSession) =>
  s.actor.kind === 'admin' ? '/portal/operator' : `/portal/app/${s.actor.appId}/endpoints`;

/**
 * Signing in and out. A customer opens the link the operator sent (`/portal/login#key=…`): the
 * page's script posts the key, which works once, for a session cookie that ends when the token
 * does. The operator signs in with the admin token.
 */
export function loginPages(scope: FastifyInstance, portal: Portal): void {
  const { access, deps } = portal.services;

  /** A fresh sign-in token, kept in a cookie of its own: the form must send it back. */
  function signInToken(req: FastifyRequest, reply: FastifyReply): string {
    const token = randomBytes(24).toString('base64url');
    const now = deps.now();
    setCookie(reply, req.portal.cookies.login, token, {
      secure: req.portal.secure,
      expires: now + SIGN_IN_FORM_MS,
      now,
    });
    return token;
  }

  function startSession(req: FastifyRequest, reply: FastifyReply, session: PortalSession) {
    const now = deps.now();
    setCookie(reply, req.portal.cookies.session, session.cookie, {
      secure: req.portal.secure,
      expires: session.expiresAt,
      now,
    });
    setCookie(reply, req.portal.cookies.login, '', { secure: req.portal.secure, now });
    return reply.redirect(home(session), 303);
  }

  /** A sign-in page: one field, its error next to it, the sign-in cookie's token. */
  function signInPage(
    req: FastifyRequest,
    reply: FastifyReply,
    o: {
      title: string;
      action: string;
      field: Parameters<typeof field>[0];
      intro?: Html;
      outro?: Html;
      script?: boolean;
    },
    status: number,
  ) {
    const token = signInToken(req, reply);
    return sendPage(
      req,
      reply,
      {
        title: o.title,
        body: html`${o.intro ?? ''}
          <form class="stack" method="post" action="${o.action}"${o.script ? html` data-login` : ''}>
            <input type="hidden" name="_csrf" value="${token}">
            ${field({ required: true, ...o.field })}
            <div><button type="submit">Sign in</button></div>
          </form>
          ${o.outro ?? ''}`,
      },
      status,
    );
  }

  const customerForm = (req: FastifyRequest, reply: FastifyReply, error?: string, status = 200) =>
    signInPage(
      req,
      reply,
      {
        title: 'Sign in',
        action: '/portal/login',
        // The page's script fills the field from the link and posts it.
        script: true,
        intro: html`<p>Open the link you were sent to sign in: it signs you in once, then stops working.</p>`,
        field: {
          name: 'key',
          label: 'Sign-in key',
          hint: html`Signing in by hand: paste what follows <code>#key=</code> in your link.`,
          autocomplete: 'off',
          ...(error ? { errors: { key: error } } : {}),
        },
        outro: html`<p class="muted">Operating this server? <a href="/portal/operator/login">Sign in with the admin token</a>.</p>`,
      },
      status,
    );

  const operatorForm = (req: FastifyRequest, reply: FastifyReply, error?: string, status = 200) =>
    signInPage(
      req,
      reply,
      {
        title: 'Operator sign-in',
        action: '/portal/operator/login',
        field: {
          name: 'token',
          label: 'Admin token',
          type: 'password',
          hint: 'HOOKWARDEN_ADMIN_TOKEN, or the file admin-token in the data directory.',
          autocomplete: 'current-password',
          ...(error ? { errors: { token: error } } : {}),
        },
      },
      status,
    );

  scope.get('/', { config: { portal: 'public' } }, async (req, reply) => {
    const session = req.portal.session;
    return reply.redirect(session ? home(session) : '/portal/login', 303);
  });

  scope.get('/login', { config: { portal: 'public' } }, async (req, reply) => customerForm(req, reply));

  scope.post<{ Body: Form }>('/login', { config: { portal: 'public', signInForm: true } }, async (req, reply) => {
    const key = text(req.body, 'key');
    const session = key ? await access.signIn(key) : undefined;
    if (!session) {
      return customerForm(
        req,
        reply,
        'This link was used already, has expired, or is not a sign-in link: ask for a new one.',
        401,
      );
    }
    return startSession(req, reply, session);
  });

  scope.get('/operator/login', { config: { portal: 'public' } }, async (req, reply) => operatorForm(req, reply));

  scope.post<{ Body: Form }>(
    '/operator/login',
    { config: { portal: 'public', signInForm: true } },
    async (req, reply) => {
      const session = await access.signInOperator(req.body.get('token') ?? '');
      if (!session) return operatorForm(req, reply, 'That is not the admin token.', 401);
      return startSession(req, reply, session);
    },
  );

  scope.post('/logout', { config: { portal: 'signed-in' } }, async (req, reply) => {
    const session = req.portal.session as PortalSession;
    await access.signOut(session.cookie);
    req.portal.session = undefined;
    setCookie(reply, req.portal.cookies.session, '', { secure: req.portal.secure, now: deps.now() });
    return sendPage(req, reply, {
      title: 'Signed out',
      body: html`<p>You are signed out. Open your link again to come back, or <a href="/portal/login">sign in</a>.</p>`,
    });
  });
}
