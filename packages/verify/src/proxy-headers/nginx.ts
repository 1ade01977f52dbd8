/** nginx: `$ssl_client_verify`, `$ssl_client_s_dn`, `$ssl_client_fingerprint` (SHA-1), `$ssl_client_escaped_cert`. */
import { escapedPemCertificates, hexFingerprint, one, oneEntry, type ProxyHeaderParser } from './facts.ts';

const H = {
  verify: 'x-ssl-client-verify',
  subject: 'x-ssl-client-subject-dn',
  issuer: 'x-ssl-client-issuer-dn',
  fingerprint: 'x-ssl-client-fingerprint',
  serial: 'x-ssl-client-serial',
  cert: 'x-ssl-client-cert',
} as const;

export const nginx: ProxyHeaderParser = {
  headers: Object.values(H),
  parse(headers) {
    const verify = one(headers, H.verify);
    const subject = one(headers, H.subject);
    const sha1 = hexFingerprint(one(headers, H.fingerprint), 20, H.fingerprint);
    const certText = oneEntry(headers, H.cert);
    if (verify === undefined || verify === 'NONE') {
      // Without a verify status we cannot tell a verified certificate from an unverified one.
      return subject || sha1 || certText
        ? { verified: false, failure: `${H.verify} is missing`, fingerprints: {}, chain: [] }
        : undefined;
    }
    const certs = certText === undefined ? [] : escapedPemCertificates(certText, H.cert);
    return {
      verified: verify === 'SUCCESS',
      ...(verify === 'SUCCESS' ? {} : { failure: verify }),
      ...(subject === undefined ? {} : { subject }),
      fingerprints: sha1 === undefined ? {} : { sha1Hex: sha1 },
      ...(certs[0] === undefined ? {} : { cert: certs[0] }),
      chain: certs.slice(1),
    };
  },
};
