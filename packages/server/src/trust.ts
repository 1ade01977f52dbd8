import { createHash } from 'node:crypto';
import type { CipherPolicy } from './delivery/ciphers.ts';

/** What the trust document says about one client certificate (describeCertificate's facts). */
export interface CertificateFacts {
  subject: string;
  dnsNames: string[];
  notBefore: string;
  notAfter: string;
  fingerprints: { sha256: string; sha1: string; sha256Hex: string; sha1Hex: string; spkiSha256: string };
}

/**
 * The trust document: everything a receiver pins or allowlists, in one versioned JSON. Receivers
 * cache it and refetch with If-None-Match; because the next certificate is announced before it is
 * used, pins follow a rotation without anyone filing a ticket.
 */
export interface TrustDocument {
  /** Content hash: changes exactly when something a receiver relies on changes. Also the ETag. */
  version: string;
  caBundlePem: string;
  certificates: { current: CertificateFacts; next?: CertificateFacts };
  egressCidrs: string[];
  /** Ed25519 public keys (`whpk_...`) that verify `v1a` signatures. */
  signingPublicKeys: string[];
  cipherPolicy: CipherPolicy;
}

interface DescribedCertificate {
  subject: string;
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  fingerprints: CertificateFacts['fingerprints'];
}

const facts = (c: DescribedCertificate): CertificateFacts => ({
  subject: c.subject,
  dnsNames: c.dnsNames,
  notBefore: c.notBefore.toISOString(),
  notAfter: c.notAfter.toISOString(),
  fingerprints: {
    sha256: c.fingerprints.sha256,
    sha1: c.fingerprints.sha1,
    sha256Hex: c.fingerprints.sha256Hex,
    sha1Hex: c.fingerprints.sha1Hex,
    spkiSha256: c.fingerprints.spkiSha256,
  },
});

export function buildTrustDocument(input: {
  caBundlePem: string;
  current: DescribedCertificate;
  next?: DescribedCertificate;
  egressCidrs: string[];
  signingPublicKeys: string[];
  cipherPolicy: CipherPolicy;
}): TrustDocument {
  const body = {
    caBundlePem: input.caBundlePem,
    certificates: input.next
      ? { current: facts(input.current), next: facts(input.next) }
      : { current: facts(input.current) },
    egressCidrs: [...input.egressCidrs],
    signingPublicKeys: [...input.signingPublicKeys],
    cipherPolicy: {
      minVersion: input.cipherPolicy.minVersion,
      maxVersion: input.cipherPolicy.maxVersion,
      ciphers: [...input.cipherPolicy.ciphers],
      tls13Suites: [...input.cipherPolicy.tls13Suites],
    },
  };
  const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 20);
  return { version, ...body };
}
