import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ServerError } from '../errors.ts';
import type { Capability } from './capabilities.ts';
import type { ApiDeps, Scope } from './context.ts';

/** Tokens are kept as SHA-256 digests: a leaked database or log line does not leak a usable token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const unauthorized = (detail: string) => new ServerError('HW_AUTH_FAILED', detail, { status: 401 });

export async function authenticate(deps: ApiDeps, req: FastifyRequest): Promise<Scope> {
  const header = req.headers.authorization;
  if (typeof header !== 'string') throw unauthorized('missing Authorization: Bearer <token> header');
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"');
  const digest = hashToken(match[1] as string);
  // Digests have a fixed length, so timingSafeEqual never throws and leaks nothing about the token.
  if (timingSafeEqual(digest, deps.adminTokenHash)) return { kind: 'admin' };
  // Looked up by digest: an index lookup on a hash of a 256-bit random token reveals nothing usable.
  const tokenHash = digest.toString('hex');
  const found = await deps.store.findToken(tokenHash, deps.now());
  if (!found) throw unauthorized('invalid or expired token');
  if (found.appId === null) return { kind: 'admin' };
  const grant = found.capabilities === null ? null : new Set(found.capabilities as Capability[]);
  return {
    kind: 'app',
    appId: found.appId,
    grant,
    tokenHash,
    featureFlags: found.featureFlags ?? [],
    integration: found.integration,
  };
}
