/**
 * Caddy: `{http.request.tls.client.subject}`, `.fingerprint` (SHA-256), `.certificate_der_base64`.
 * Caddy states no verification result (its `request` mode passes any certificate), so the
 * verifier requires its own chain check or a pin for this kind.
 */
import { parseCertificate } from '../certificate.ts';
import { base64Bytes, hexFingerprint, one, oneEntry, type ProxyHeaderParser } from './facts.ts';

const H = {
  subject: 'x-ssl-client-subject-dn',
  sha256: 'x-ssl-client-fingerprint-sha256',
  der: 'x-ssl-client-der',
} as const;

export const caddy: ProxyHeaderParser = {
  headers: Object.values(H),
  parse(headers) {
    const subject = one(headers, H.subject);
    const sha256 = hexFingerprint(one(headers, H.sha256), 32, H.sha256);
    const der = oneEntry(headers, H.der);
    if (subject === undefined && sha256 === undefined && der === undefined) return undefined;
    const cert = der === undefined ? undefined : parseCertificate(base64Bytes(der, H.der), H.der);
    return {
      ...(subject === undefined ? {} : { subject }),
      fingerprints: sha256 === undefined ? {} : { sha256Hex: sha256 },
      ...(cert === undefined ? {} : { cert }),
      chain: [],
    };
  },
};
