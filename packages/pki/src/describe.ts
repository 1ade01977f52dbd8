import { dnFromX509, dnIssuerFromX509, formatDn } from '@hookwarden/verify/dn';
import { type Fingerprints, fingerprints } from './fingerprints.ts';
import { describeKeyType } from './keys.ts';
import { toX509 } from './pem.ts';
import { decodeExtensions, x509 } from './x509.ts';

export interface CertificateInfo {
  /** RFC 4514, read from the DER. */
  subject: string;
  issuer: string;
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** Uppercase hex, as nginx's `$ssl_client_serial` prints it. */
  serialHex: string;
  /** 'ec-p256', 'rsa-3072', ... */
  keyType: string;
  fingerprints: Fingerprints;
}

/** The facts about a certificate that operators and receivers act on. */
export function describeCertificate(cert: string | Uint8Array): CertificateInfo {
  const x = toX509(cert);
  const san = decodeExtensions(x).getExtension(x509.SubjectAlternativeNameExtension);
  return {
    subject: formatDn(dnFromX509(x)),
    issuer: formatDn(dnIssuerFromX509(x)),
    dnsNames: san ? san.names.items.filter((n) => n.type === 'dns').map((n) => n.value) : [],
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    serialHex: x.serialNumber.toUpperCase(),
    keyType: describeKeyType(x.publicKey),
    fingerprints: fingerprints(x.raw),
  };
}
