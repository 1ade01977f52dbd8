import { createHash } from 'node:crypto';
import { toX509 } from './pem.ts';

export interface Fingerprints {
  /** SHA-256 of the DER in OpenSSL's form: uppercase hex pairs joined by colons. */
  sha256: string;
  sha1: string;
  /** Lowercase hex without colons: nginx's `$ssl_client_fingerprint` form (for SHA-1). */
  sha256Hex: string;
  sha1Hex: string;
  /** Base64 SHA-256 of the SubjectPublicKeyInfo: the pin that survives re-issuing with the same key. */
  spkiSha256: string;
}

function colons(hex: string): string {
  return hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** Fingerprints of a certificate given as PEM (the first certificate) or DER. */
export function fingerprints(cert: string | Uint8Array): Fingerprints {
  const x = toX509(cert);
  const der = x.raw;
  const sha256Hex = createHash('sha256').update(der).digest('hex');
  const sha1Hex = createHash('sha1').update(der).digest('hex');
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return {
    sha256: colons(sha256Hex),
    sha1: colons(sha1Hex),
    sha256Hex,
    sha1Hex,
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
  };
}
