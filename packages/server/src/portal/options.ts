import { invalidOption } from '../errors.ts';
import type { Services } from '../services/index.ts';

/** How the server runs its portal. */
export interface PortalOptions {
  services: Services;
  /**
   * Who may embed the portal in a frame (CSP `frame-ancestors`): origins such as
   * `https://dashboard.example.com`, or `'self'`. Default: nobody.
   */
  frameAncestors?: readonly string[];
  /** How often an open deliveries page asks for new rows, ms (default 2000). */
  livePollMs?: number;
}

export interface CheckedPortalOptions {
  services: Services;
  frameAncestors: string;
  livePollMs: number;
}

/** A CSP source for frame-ancestors: an origin (scheme, host, optional port), `'self'`, or `'none'`. */
const SOURCE = /^(?:'self'|https?:\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)$/;

/** Options checked once, naming the bad field. */
export function checkPortalOptions(o: PortalOptions): CheckedPortalOptions {
  const ancestors = o.frameAncestors ?? [];
  if (!Array.isArray(ancestors)) throw invalidOption('portal.frameAncestors', 'must be a list of origins');
  ancestors.forEach((a, i) => {
    if (typeof a !== 'string' || !SOURCE.test(a)) {
      throw invalidOption(`portal.frameAncestors[${i}]`, "must be an origin (https://dashboard.example.com) or 'self'");
    }
  });
  const poll = o.livePollMs ?? 2000;
  if (!Number.isInteger(poll) || poll < 100) throw invalidOption('portal.livePollMs', 'must be at least 100 ms');
  return {
    services: o.services,
    frameAncestors: ancestors.length > 0 ? ancestors.join(' ') : "'none'",
    livePollMs: poll,
  };
}
