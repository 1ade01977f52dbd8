import { describeCertificate } from '@hookwarden/pki';
import type { PlatformIdentity } from '../server.ts';

/** The platform identity from PEM material (leaf + chain, key, CA bundle), described for the trust document. */
export function identityFromPem(input: {
  certPem: string;
  keyPem: string;
  chainPem: string;
  caBundlePem: string;
  nextCertPem?: string;
}): PlatformIdentity {
  return {
    certPem: input.certPem,
    keyPem: input.keyPem,
    chainPem: input.chainPem,
    caBundlePem: input.caBundlePem,
    current: describeCertificate(input.certPem),
    ...(input.nextCertPem ? { next: describeCertificate(input.nextCertPem) } : {}),
  };
}
