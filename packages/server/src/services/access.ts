import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApplicationRow, FoundToken } from '../store/types.ts';
import { type Actor, authorize, type Caller, type Capability, forbidden, grantOf } from './actor.ts';
import type { AppBody, Applications } from './applications.ts';
import type { ServiceDeps } from './context.ts';

/** Tokens are kept as SHA-256 digests: a leaked database or log line does not leak a usable token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const DEFAULT_PORTAL_EXPIRY_SECONDS = 7 * 24 * 3600;
/** How long the operator's portal session lasts: a working day, then the admin token again. */
export const OPERATOR_SESSION_MS = 12 * 3_600_000;

/**
 * Portal sign-in keys and sessions are rows of the token table too, so that `expire-all`, expiry
 * and the retention sweep treat them as tokens; but each is stored under a digest of its own
 * domain, which no bearer token hashes to: a sign-in key or a session cookie is never an API token.
 */
const LOGIN_DOMAIN = 'hookwarden portal sign-in key\n';
const SESSION_DOMAIN = 'hookwarden portal session\n';
const random = () => randomBytes(32).toString('base64url');
const digest = (domain: string, secret: string) => hashToken(domain + secret).toString('hex');

/** Svix's AppPortalAccessIn, as the API's schema admits it. */
export interface PortalAccessBody {
  expiry?: number | null;
  readOnly?: boolean | null;
  sessionId?: string | null;
  capabilities?: string[] | null;
  featureFlags?: string[];
  /** Created first if the path names no application yet (Svix's AppPortalAccessIn.application). */
  application?: AppBody | null;
}

/** A portal session as its cookie names it: `c.<secret>` for a customer's, `o.<secret>` for the operator's. */
export interface PortalSession {
  actor: Actor;
  /** The cookie's value. */
  cookie: string;
  /** When it ends (the sign-in link's token's expiry); the cookie expires with it. */
  expiresAt: number;
}

export type Access = ReturnType<typeof accessService>;

export function accessService(deps: ServiceDeps, apps: Applications) {
  const { store } = deps;

  /** The actor a found token stands for. */
  function actorOf(found: FoundToken, tokenHash: string): Actor {
    if (found.appId === null) return { kind: 'admin' };
    return {
      kind: 'app',
      appId: found.appId,
      grant: found.capabilities === null ? null : new Set(found.capabilities as Capability[]),
      tokenHash,
      featureFlags: found.featureFlags ?? [],
      integration: found.integration,
    };
  }

  /** Whether `token` is the admin token; digests have a fixed length, so the comparison leaks nothing. */
  const isAdminToken = (token: string) => timingSafeEqual(hashToken(token), deps.adminTokenHash);

  /** The actor of an API bearer token, or undefined for an unknown or expired one. */
  async function bearer(token: string): Promise<Actor | undefined> {
    if (isAdminToken(token)) return { kind: 'admin' };
    // Looked up by digest: an index lookup on a hash of a 256-bit random token reveals nothing usable.
    const tokenHash = hashToken(token).toString('hex');
    const found = await store.findToken(tokenHash, deps.now());
    return found && actorOf(found, tokenHash);
  }

  /**
   * A per-application token (Svix's app-portal-access): it sees that application, and within it
   * only what its capabilities (or read-only mode) allow. The link carries a one-time sign-in key of
   * its own, not the token: opening it starts a portal session, and a second opening fails.
   */
  async function grant(
    c: Caller,
    appIdOrUid: string,
    body: PortalAccessBody | undefined,
  ): Promise<{ app: ApplicationRow; token: string; url: string }> {
    authorize(c.actor, 'access.grant');
    const capabilities = grantOf(body);
    const { app } = await apps.getOrCreate(c, appIdOrUid, body?.application, ['body', 'application']);
    const token = `appsk_${random()}`;
    const expiresAt = deps.now() + (body?.expiry ?? DEFAULT_PORTAL_EXPIRY_SECONDS) * 1000;
    const opts = { capabilities, sessionId: body?.sessionId ?? null, featureFlags: body?.featureFlags ?? null };
    await store.createToken(hashToken(token).toString('hex'), app.id, expiresAt, opts);
    const key = random();
    await store.createToken(digest(LOGIN_DOMAIN, key), app.id, expiresAt, opts);
    return { app, token, url: `${deps.publicUrl}/portal/login#key=${key}` };
  }

  /** An application token ends itself; the admin token and integration keys are no sessions. */
  async function end(c: Caller): Promise<void> {
    authorize(c.actor, 'access.end');
    if (c.actor.kind !== 'app' || c.actor.integration) throw forbidden();
    await store.deleteToken(c.actor.tokenHash);
  }

  /** Every token of an application (or of the given portal sessions) stops working at `at`. */
  async function expireAll(c: Caller, app: ApplicationRow, at: number, sessionIds?: string[]): Promise<void> {
    authorize(c.actor, 'access.revoke');
    await store.expireTokens(app.id, at, sessionIds);
  }

  async function newSession(prefix: 'c' | 'o', found: FoundToken, expiresAt: number): Promise<PortalSession> {
    const secret = random();
    const hash = digest(SESSION_DOMAIN, prefix === 'o' ? operatorSecret(secret) : secret);
    await store.createToken(hash, found.appId, expiresAt, {
      capabilities: found.capabilities,
      sessionId: found.sessionId,
      featureFlags: found.featureFlags,
    });
    return { actor: actorOf(found, hash), cookie: `${prefix}.${secret}`, expiresAt };
  }

  /**
   * The operator's session secret is bound to the admin token: changing the token (the way to
   * revoke it) ends every operator session made with the old one.
   */
  const operatorSecret = (secret: string) => `${deps.adminTokenHash.toString('hex')}\n${secret}`;

  /**
   * Exchanges a sign-in key for a session of the same application, capabilities and expiry. The
   * key works once: of two requests racing with it, only the one that deleted it gets a session.
   */
  async function signIn(key: string): Promise<PortalSession | undefined> {
    const hash = digest(LOGIN_DOMAIN, key);
    const found = await store.findToken(hash, deps.now());
    if (!found || found.appId === null || found.expiresAt === null) return undefined;
    if (!(await store.deleteToken(hash))) return undefined;
    return newSession('c', found, found.expiresAt);
  }

  /** The operator's session, for the admin token only. */
  async function signInOperator(adminToken: string): Promise<PortalSession | undefined> {
    if (!isAdminToken(adminToken)) return undefined;
    const expiresAt = deps.now() + OPERATOR_SESSION_MS;
    const found: FoundToken = {
      appId: null,
      capabilities: null,
      featureFlags: null,
      integration: false,
      expiresAt,
      sessionId: null,
    };
    return newSession('o', found, expiresAt);
  }

  /** The hash a session cookie is stored under, or undefined for a value that is no session cookie. */
  function sessionHash(cookie: string): { hash: string; operator: boolean } | undefined {
    const m = /^([co])\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (!m) return undefined;
    const secret = m[2] as string;
    const operator = m[1] === 'o';
    return { hash: digest(SESSION_DOMAIN, operator ? operatorSecret(secret) : secret), operator };
  }

  /** The live session a cookie names; a customer's cookie never stands for the operator, nor the reverse. */
  async function session(cookie: string): Promise<PortalSession | undefined> {
    const named = sessionHash(cookie);
    if (!named) return undefined;
    const found = await store.findToken(named.hash, deps.now());
    if (!found || found.integration || found.expiresAt === null) return undefined;
    if ((found.appId === null) !== named.operator) return undefined;
    return { actor: actorOf(found, named.hash), cookie, expiresAt: found.expiresAt };
  }

  async function signOut(cookie: string): Promise<void> {
    const named = sessionHash(cookie);
    if (named) await store.deleteToken(named.hash);
  }

  /** The CSRF token of a session: bound to its secret, which only the HttpOnly cookie carries. */
  function csrfToken(cookie: string): string {
    return createHmac('sha256', cookie).update('hookwarden portal form').digest('base64url');
  }

  /** Whether a form's token is its session's, compared in constant time. */
  function csrfValid(cookie: string, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(csrfToken(cookie));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  return { bearer, grant, end, expireAll, signIn, signInOperator, session, signOut, csrfToken, csrfValid };
}
