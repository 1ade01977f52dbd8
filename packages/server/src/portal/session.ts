import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PortalSession } from '../services/access.ts';

/**
 * The portal's cookies. Over HTTPS they carry the `__Host-` prefix, which the browser accepts only
 * from this host, with Secure and Path=/: a neighbouring subdomain cannot plant a session of its
 * own. Both are HttpOnly and SameSite=Strict: no script reads them, and no other site's page sends
 * them along with its requests.
 */
export interface CookieNames {
  session: string;
  login: string;
}

export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: '__Host-hw_session', login: '__Host-hw_login' }
    : { session: 'hw_session', login: 'hw_login' };
}

/** Whether this request came over HTTPS: on the socket, or by the public URL the operator configured. */
export function isSecure(req: FastifyRequest, publicUrl: string): boolean {
  return req.protocol === 'https' || publicUrl.startsWith('https://');
}

/** The cookies of a request, by name (the first of a repeated name). */
export function cookies(req: FastifyRequest): Map<string, string> {
  const found = new Map<string, string>();
  const header = req.headers.cookie;
  if (typeof header !== 'string') return found;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!found.has(name)) found.set(name, part.slice(eq + 1).trim());
  }
  return found;
}

/** Sets a cookie; `expires` undefined ends it now. Values are ours (base64url and a prefix): never quoted. */
export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  o: { secure: boolean; expires?: number; now: number },
): void {
  const expires = o.expires ?? 0;
  const maxAge = Math.max(0, Math.floor((expires - o.now) / 1000));
  const parts = [
    `${name}=${o.expires === undefined ? '' : value}`,
    'Path=/',
    `Max-Age=${maxAge}`,
    `Expires=${new Date(expires).toUTCString()}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (o.secure) parts.push('Secure');
  // Fastify adds each set-cookie to those already set.
  reply.header('set-cookie', parts.join('; '));
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The portal's view of the request: its session, if signed in, and its form token. */
    portal: { session?: PortalSession; csrf?: string; secure: boolean; cookies: CookieNames };
  }
}
