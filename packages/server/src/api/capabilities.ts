import { ServerError } from '../errors.ts';
import { invalidField } from './context.ts';

/**
 * What an application portal token may do, in Svix's `AppPortalCapability` terms. A token made with
 * `capabilities` or `readOnly` carries a grant and may call a route only when the grant holds one
 * of the capabilities the route needs; a token made with neither sees its whole application, as in
 * Svix. Routes are matched by method and route pattern: a write that is not in the table is outside
 * every grant (fail closed), and reading needs `ViewBase`.
 */
export const CAPABILITIES = [
  'ViewBase',
  'ViewEndpointSecret',
  'ManageEndpointSecret',
  'ManageTransformations',
  'CreateAttempts',
  'ManageEndpoint',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What a read-only portal may hold: everything else writes. */
const READ_ONLY: ReadonlySet<Capability> = new Set(['ViewBase', 'ViewEndpointSecret']);

const EP = '/api/v1/app/:app_id/endpoint/:endpoint_id';
const MANAGE: Capability[] = ['ManageEndpoint'];
const ATTEMPTS: Capability[] = ['CreateAttempts'];
/** Routes that need more than `ViewBase` (any one of the listed capabilities). */
const NEEDS = new Map<string, readonly Capability[]>([
  [`GET ${EP}/secret`, ['ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint']],
  [`POST ${EP}/secret/rotate`, ['ManageEndpointSecret', 'ManageEndpoint']],
  // Headers often carry the receiver's own credentials: shown only to those who may change them.
  [`GET ${EP}/headers`, MANAGE],
  [`PUT ${EP}/headers`, MANAGE],
  [`PATCH ${EP}/headers`, MANAGE],
  ['POST /api/v1/app/:app_id/endpoint', MANAGE],
  [`PUT ${EP}`, MANAGE],
  [`PATCH ${EP}`, MANAGE],
  [`DELETE ${EP}`, MANAGE],
  [`POST ${EP}/recover`, ATTEMPTS],
  [`POST ${EP}/replay-missing`, ATTEMPTS],
  [`POST ${EP}/bulk-replay`, ATTEMPTS],
  [`POST ${EP}/send-example`, ATTEMPTS],
  // The endpoint check sends a test event to the endpoint.
  [`POST ${EP}/check`, ATTEMPTS],
  ['POST /api/v1/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/resend', ATTEMPTS],
  // A read sent as a POST: what it tells, the endpoint list tells too.
  ['POST /api/v1/app/:app_id/msg/precheck/active', ['ViewBase']],
]);

/** The routes the table names (`METHOD /pattern`), so a test can hold them to the real routes. */
export const guardedRoutes = (): string[] => [...NEEDS.keys()];

export const notPermitted = (): ServerError =>
  new ServerError('HW_FORBIDDEN', "this token's capabilities do not cover that request", { status: 403 });

export function permits(grant: ReadonlySet<Capability>, method: string, route: string): boolean {
  // Any token may end itself.
  if (method === 'POST' && route === '/api/v1/auth/logout') return true;
  // HEAD is answered by the GET route: it needs what GET needs.
  const m = method === 'HEAD' ? 'GET' : method;
  const needs = NEEDS.get(`${m} ${route}`);
  if (needs) return needs.some((c) => grant.has(c));
  return m === 'GET' && grant.has('ViewBase');
}

/**
 * The grant a portal-access request asks for, or null for the whole application. `ViewBase` is
 * required in a list (as Svix requires it); `readOnly` keeps only the capabilities that read.
 */
export function grantOf(body: { capabilities?: string[] | null; readOnly?: boolean | null } | undefined) {
  const listed = body?.capabilities ?? null;
  if (listed !== null && !listed.includes('ViewBase')) {
    throw invalidField(['body', 'capabilities'], 'must include ViewBase');
  }
  if (body?.readOnly !== true) return listed === null ? null : ([...new Set(listed)] as Capability[]);
  return (listed === null ? ['ViewBase'] : [...new Set(listed)]).filter((c) =>
    READ_ONLY.has(c as Capability),
  ) as Capability[];
}
