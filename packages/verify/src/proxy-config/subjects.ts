import { parseDn, type Rdn } from '../dn.ts';
import { HookwardenError } from '../errors.ts';
import { opensslRfc2253 } from './openssl-dn.ts';
import { optionError } from './options.ts';

/**
 * More spellings than this for one subject means several large multi-valued RDNs: nothing a real
 * certificate carries, and a map or ACL that size is a mistake. Pin a fingerprint instead.
 */
const MAX_SPELLINGS = 24;

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/**
 * Each configured subject, parsed as RFC 4514 and re-printed the way OpenSSL prints a certificate's
 * DN. OpenSSL prints the entries of a multi-valued RDN in DER order (the sorted SET OF), which the
 * written DN need not follow; as the verify core compares them order-insensitively, every order is
 * emitted, so whichever the certificate holds matches.
 */
export function opensslSubjects(subjects: string[]): string[] {
  return subjects.flatMap((s, i) => {
    const field = `subjects[${i}]`;
    let rdns: Rdn[];
    try {
      rdns = parseDn(s);
    } catch (err) {
      const why = err instanceof HookwardenError ? err.message : String(err);
      throw optionError(field, `not an RFC 4514 DN: ${why}`);
    }
    let spellings: Rdn[][] = [[]];
    for (const rdn of rdns) {
      const orders = rdn.length > 4 ? [] : permutations(rdn);
      spellings = spellings.flatMap((prefix) => orders.map((order) => [...prefix, order]));
      if (orders.length === 0 || spellings.length > MAX_SPELLINGS) {
        throw optionError(field, 'too many multi-valued RDN entries to match in the proxy; pin a fingerprint instead');
      }
    }
    return [...new Set(spellings.map((dn) => opensslRfc2253(dn, field)))];
  });
}
