import { FieldError, type ServerError, serverError } from '../errors.ts';

/**
 * What an application token or portal session may do, in Svix's `AppPortalCapability` terms. A
 * token made with `capabilities` or `readOnly` carries a grant; one made with neither may do
 * everything an application token can, as in Svix.
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

/** Who acts: the operator (admin token or its portal session), or one application's token or session. */
export type Actor =
  | { kind: 'admin' }
  | {
      kind: 'app';
      appId: string;
      /** What it may do within its application; null: everything an application token can. */
      grant: ReadonlySet<Capability> | null;
      /** The feature flags it holds: the flagged event types it may see. */
      featureFlags: readonly string[];
      /** The token's digest (hex), so that it can end itself. */
      tokenHash: string;
      /** An integration's key, which rotating or deleting the integration ends, not a logout. */
      integration: boolean;
    };

/** Where a service writes what the operator's log should keep (pino's signature, or Fastify's request log). */
export interface Log {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Every service call names who makes it and where its log lines go. */
export interface Caller {
  actor: Actor;
  log: Log;
}

/**
 * Who may take an action: the operator only, or application actors whose grant holds one of
 * `needs` (`[]`: only those without a grant; 'any': every application actor).
 */
type Rule = { readonly operator: true } | { readonly needs: readonly Capability[] | 'any' };

const OPERATOR: Rule = { operator: true };
const VIEW: Rule = { needs: ['ViewBase'] };
const MANAGE: Rule = { needs: ['ManageEndpoint'] };
const ATTEMPTS: Rule = { needs: ['CreateAttempts'] };
/** Outside every grant: only an application token made without capabilities (as in Svix). */
const UNGRANTED: Rule = { needs: [] };

/**
 * The one table of who may do what. Services check it on every call; the API checks the action a
 * route declares before it runs (so a refused request is neither kept for an Idempotency-Key nor
 * costs a lookup). An action missing here cannot be declared: the table is the list.
 */
export const ACTIONS = {
  'application.list': OPERATOR,
  'application.create': OPERATOR,
  'application.read': VIEW,
  // The operator's: a tenant renaming its application, or taking a uid the operator will use for
  // another customer, would receive that customer's messages.
  'application.update': OPERATOR,
  'application.delete': OPERATOR,
  'application.purge': OPERATOR,
  'access.grant': OPERATOR,
  'access.revoke': OPERATOR,
  // Any token may end itself.
  'access.end': { needs: 'any' },
  // A key a portal token made would outlive the token's expiry and `expire-all`.
  'integration.manage': OPERATOR,
  'event-type.read': VIEW,
  'event-type.manage': OPERATOR,
  'environment.manage': OPERATOR,
  'statistics.read': OPERATOR,
  'operational.manage': OPERATOR,
  'console.read': OPERATOR,
  'check.url': OPERATOR,
  'endpoint.read': VIEW,
  'endpoint.manage': MANAGE,
  'endpoint.secret.read': { needs: ['ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint'] },
  'endpoint.secret.rotate': { needs: ['ManageEndpointSecret', 'ManageEndpoint'] },
  // Headers often carry the receiver's own credentials: shown only to those who may change them.
  'endpoint.headers.read': MANAGE,
  'endpoint.headers.write': MANAGE,
  // The check sends a test event to the endpoint.
  'endpoint.check': ATTEMPTS,
  'endpoint.recover': ATTEMPTS,
  'endpoint.replay': ATTEMPTS,
  'endpoint.send-example': ATTEMPTS,
  'message.read': VIEW,
  // Sending messages is the platform's, not a portal's.
  'message.create': UNGRANTED,
  'message.expunge': UNGRANTED,
  'message.resend': ATTEMPTS,
  'attempt.read': VIEW,
  'attempt.expunge': UNGRANTED,
  'task.read': VIEW,
} as const satisfies Record<string, Rule>;

export type Action = keyof typeof ACTIONS;

export const isAction = (name: unknown): name is Action => typeof name === 'string' && Object.hasOwn(ACTIONS, name);

/** Whether `actor` may take `action` (within its own application; `within` checks which one). */
export function can(actor: Actor, action: Action): boolean {
  if (actor.kind === 'admin') return true;
  const rule: Rule = ACTIONS[action];
  if ('operator' in rule) return false;
  if (rule.needs === 'any' || actor.grant === null) return true;
  const grant = actor.grant;
  return rule.needs.some((c) => grant.has(c));
}

export const forbidden = (): ServerError => serverError('HW_FORBIDDEN');

const notCovered = (): ServerError =>
  serverError('HW_FORBIDDEN', "this token's capabilities do not cover that request");

/** Throws HW_FORBIDDEN unless `actor` may take `action`. */
export function authorize(actor: Actor, action: Action): void {
  if (can(actor, action)) return;
  throw actor.kind === 'app' && !('operator' in ACTIONS[action]) ? notCovered() : forbidden();
}

/** Throws HW_FORBIDDEN unless `actor` may act on application `appId` (the operator on every one). */
export function within(actor: Actor, appId: string): void {
  if (actor.kind === 'app' && actor.appId !== appId) throw forbidden();
}

/**
 * The grant a portal-access request asks for, or null for the whole application. `ViewBase` is
 * required in a list (as Svix requires it); `readOnly` keeps only the capabilities that read.
 */
export function grantOf(
  body: { capabilities?: string[] | null; readOnly?: boolean | null } | undefined,
): Capability[] | null {
  const listed = body?.capabilities ?? null;
  if (listed !== null && !listed.includes('ViewBase')) {
    throw new FieldError(['body', 'capabilities'], 'must include ViewBase');
  }
  const unique = listed === null ? null : ([...new Set(listed)] as Capability[]);
  if (body?.readOnly !== true) return unique;
  return (unique ?? ['ViewBase']).filter((c) => READ_ONLY.has(c));
}

/** What a read-only portal may hold: everything else writes. */
const READ_ONLY: ReadonlySet<Capability> = new Set(['ViewBase', 'ViewEndpointSecret']);
