/**
 * AWS ALB mutual TLS. Verify mode (the ALB checked the chain against its trust store) sends
 * `X-Amzn-Mtls-Clientcert-Leaf` (URL-encoded PEM, `+=/` left as is: `decodeURIComponent`, not form
 * decoding) and `-Subject` (RFC 2253). Passthrough mode sends `X-Amzn-Mtls-Clientcert` unverified.
 */
import { escapedPemCertificates, one, oneEntry, type ProxyHeaderParser } from './facts.ts';

const H = {
  leaf: 'x-amzn-mtls-clientcert-leaf',
  subject: 'x-amzn-mtls-clientcert-subject',
  issuer: 'x-amzn-mtls-clientcert-issuer',
  serial: 'x-amzn-mtls-clientcert-serial-number',
  validity: 'x-amzn-mtls-clientcert-validity',
  passthrough: 'x-amzn-mtls-clientcert',
} as const;

export const awsAlb: ProxyHeaderParser = {
  headers: Object.values(H),
  parse(headers) {
    const leaf = oneEntry(headers, H.leaf);
    const subject = one(headers, H.subject);
    const passthrough = oneEntry(headers, H.passthrough);
    if (leaf !== undefined) {
      const [cert] = escapedPemCertificates(leaf, H.leaf);
      return {
        verified: true,
        ...(subject === undefined ? {} : { subject }),
        fingerprints: {},
        cert: cert!,
        chain: [],
      };
    }
    if (passthrough !== undefined) {
      // Unverified by the ALB: the verifier's own chain check or a pin must vouch for it.
      const certs = escapedPemCertificates(passthrough, H.passthrough);
      return { fingerprints: {}, cert: certs[0]!, chain: certs.slice(1) };
    }
    return subject === undefined
      ? undefined
      : { verified: false, failure: `${H.leaf} is missing`, fingerprints: {}, chain: [] };
  },
};
