/**
 * Traefik `passTLSClientCert`: `X-Forwarded-Tls-Client-Cert` holds query-escaped PEM bodies without
 * delimiters, comma-separated, leaf first. The `-Info` header is Traefik's own unescaped format and
 * is never parsed for a decision: everything is read from the certificate.
 */
import { parseCertificate } from '../certificate.ts';
import { VerificationError } from '../errors.ts';
import { base64Bytes, one, type ProxyHeaderParser, urlDecode } from './facts.ts';

const CERT = 'x-forwarded-tls-client-cert';
const INFO = 'x-forwarded-tls-client-cert-info';

export const traefik: ProxyHeaderParser = {
  headers: [CERT, INFO],
  parse(headers) {
    const value = one(headers, CERT);
    if (value === undefined) {
      return one(headers, INFO) === undefined
        ? undefined
        : { verified: false, failure: `${CERT} is missing`, fingerprints: {}, chain: [] };
    }
    // Traefik joins its certificates with a bare "," and query-escapes each (no spaces): a comma
    // followed by whitespace is node:http or fetch joining a client's copy ahead of Traefik's.
    if (/,\s/.test(value)) throw new VerificationError('HW_PROXY_HEADER_INVALID', `${CERT} appears more than once`);
    const parts = urlDecode(value, CERT).split(',').slice(0, 10);
    const certs = parts.map((p) => parseCertificate(base64Bytes(p.replace(/\s+/g, ''), CERT), CERT));
    return { fingerprints: {}, cert: certs[0]!, chain: certs.slice(1) };
  },
};
