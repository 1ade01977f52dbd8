import { isIP } from 'node:net';
import { bareHostname, forbiddenAddressReason, type LookupFn, nameRefusal, systemLookup } from '../delivery/ssrf.ts';
import type { CheckReport } from './types.ts';

/**
 * Resolves the host once and judges every answer with the dispatcher's SSRF rule, so the report
 * says exactly what delivery would do: one forbidden answer refuses the whole name. The checker then
 * dials only an address from this list (never a second resolution).
 */
export async function resolveForCheck(
  hostname: string,
  opts: { allowPrivateTargets: boolean; lookup?: LookupFn | undefined },
): Promise<{ dns: CheckReport['dns']; dial?: string; refused?: string }> {
  const host = bareHostname(hostname);
  const kind = isIP(host);
  let answers: { address: string; family: number }[];
  if (kind !== 0) {
    answers = [{ address: host, family: kind }];
  } else {
    // Delivery refuses such a name without resolving it; so does the check.
    const refused = nameRefusal(host, opts.allowPrivateTargets);
    if (refused !== undefined) return { dns: { answers: [] }, refused };
    try {
      answers = await (opts.lookup ?? systemLookup)(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code;
      return { dns: { answers: [], error: `cannot resolve ${host}${code ? ` (${code})` : ''}` } };
    }
    if (!Array.isArray(answers) || answers.length === 0) {
      return { dns: { answers: [], error: `${host} resolves to no address` } };
    }
  }
  const judged = answers.map((a) => {
    const reason = forbiddenAddressReason(a.address);
    const allowed = reason === undefined || (opts.allowPrivateTargets && reason !== 'not an IP address');
    return reason === undefined
      ? { address: a.address, family: a.family, allowed }
      : { address: a.address, family: a.family, allowed, reason };
  });
  const dns: CheckReport['dns'] = { answers: judged };
  if (!judged.every((a) => a.allowed)) return { dns };
  return { dns, dial: judged[0]!.address };
}
