import { X509Certificate } from 'node:crypto';
import { fingerprints } from '@hookwarden/pki';
import type { PlatformIdentity } from './server.ts';

function describe(certPem: string) {
  const cert = new X509Certificate(certPem);
  const dnsNames = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
  return {
    // Node prints the subject one RDN per line, most significant first; RFC 4514 lists it reversed.
    subject: cert.subject.split('\n').reverse().join(','),
    dnsNames,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprints: fingerprints(certPem),
  };
}

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
    current: describe(input.certPem),
    ...(input.nextCertPem ? { next: describe(input.nextCertPem) } : {}),
  };
}
