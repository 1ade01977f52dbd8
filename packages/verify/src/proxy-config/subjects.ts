import { parseDn } from '../dn.ts';
import { HookwardenError } from '../errors.ts';
import { opensslRfc2253 } from './openssl-dn.ts';
import { ProxyConfigError } from './options.ts';

/** Each configured subject, parsed as RFC 4514 and re-printed the way OpenSSL prints a certificate's DN. */
export function opensslSubjects(subjects: string[]): string[] {
  return subjects.map((s, i) => {
    const field = `subjects[${i}]`;
    let rdns: ReturnType<typeof parseDn>;
    try {
      rdns = parseDn(s);
    } catch (err) {
      const why = err instanceof HookwardenError ? err.message : String(err);
      throw new ProxyConfigError('HW_PROXY_CONFIG_INVALID', `${field}: not an RFC 4514 DN: ${why}`);
    }
    return opensslRfc2253(rdns, field);
  });
}
