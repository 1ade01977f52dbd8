/** RFC 9440: `Client-Cert: :<base64 DER>:` and `Client-Cert-Chain: :<b64>:, :<b64>:` (structured-field byte sequences). */
import { parseCertificate } from '../certificate.ts';
import { VerificationError } from '../errors.ts';
import { base64Bytes, one, oneEntry, type ProxyHeaderParser } from './facts.ts';

const CERT = 'client-cert';
const CHAIN = 'client-cert-chain';

function byteSequence(item: string, name: string): Buffer {
  const t = item.trim();
  if (t.length < 2 || !t.startsWith(':') || !t.endsWith(':')) {
    throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} is not a structured-field byte sequence`);
  }
  return base64Bytes(t.slice(1, -1), name);
}

export const rfc9440: ProxyHeaderParser = {
  headers: [CERT, CHAIN],
  parse(headers) {
    const certText = oneEntry(headers, CERT);
    const chainText = one(headers, CHAIN);
    if (certText === undefined) {
      return chainText === undefined
        ? undefined
        : { verified: false, failure: `${CERT} is missing`, fingerprints: {}, chain: [] };
    }
    const cert = parseCertificate(byteSequence(certText, CERT), CERT);
    const items = chainText === undefined ? [] : chainText.split(',');
    if (items.length > 10)
      throw new VerificationError('HW_PROXY_HEADER_INVALID', `${CHAIN} holds too many certificates`);
    return { fingerprints: {}, cert, chain: items.map((i) => parseCertificate(byteSequence(i, CHAIN), CHAIN)) };
  },
};
