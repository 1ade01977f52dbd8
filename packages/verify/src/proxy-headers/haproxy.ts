/** HAProxy: `ssl_c_used`, `ssl_c_verify` (0 = OK), `ssl_c_s_dn(,0,rfc2253)`, `ssl_c_sha1,hex`, `ssl_c_der,base64`. */
import { parseCertificate } from '../certificate.ts';
import { base64Bytes, hexFingerprint, one, oneEntry, type ProxyHeaderParser, unquote } from './facts.ts';

const H = {
  used: 'x-ssl-client-used',
  verify: 'x-ssl-client-verify',
  subject: 'x-ssl-client-subject-dn',
  sha1: 'x-ssl-client-sha1',
  der: 'x-ssl-client-der',
} as const;

export const haproxy: ProxyHeaderParser = {
  headers: Object.values(H),
  parse(headers) {
    const used = one(headers, H.used);
    const verify = one(headers, H.verify);
    const subjectText = one(headers, H.subject);
    const sha1 = hexFingerprint(one(headers, H.sha1), 20, H.sha1);
    const der = oneEntry(headers, H.der);
    if (used !== '1') {
      return subjectText || sha1 || der
        ? { verified: false, failure: `${H.used} is not 1`, fingerprints: {}, chain: [] }
        : undefined;
    }
    const ok = verify === '0';
    const cert = der === undefined ? undefined : parseCertificate(base64Bytes(der, H.der), H.der);
    return {
      verified: ok,
      ...(ok ? {} : { failure: verify === undefined ? `${H.verify} is missing` : `verify result ${verify}` }),
      ...(subjectText === undefined ? {} : { subject: unquote(subjectText) }),
      fingerprints: sha1 === undefined ? {} : { sha1Hex: sha1 },
      ...(cert === undefined ? {} : { cert }),
      chain: [],
    };
  },
};
