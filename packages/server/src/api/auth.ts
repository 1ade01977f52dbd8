import type { FastifyRequest } from 'fastify';
import { serverError } from '../errors.ts';
import type { Actor } from '../services/actor.ts';
import type { Services } from '../services/index.ts';

export { hashToken } from '../services/access.ts';

const unauthorized = (detail: string) => serverError('HW_AUTH_FAILED', detail);

/** The actor of the request's `Authorization: Bearer` token; 401 for a missing, malformed or unknown one. */
export async function authenticate(s: Services, req: FastifyRequest): Promise<Actor> {
  const header = req.headers.authorization;
  if (typeof header !== 'string') throw unauthorized('missing Authorization: Bearer <token> header');
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"');
  const actor = await s.access.bearer(match[1] as string);
  if (!actor) throw unauthorized('invalid or expired token');
  return actor;
}
