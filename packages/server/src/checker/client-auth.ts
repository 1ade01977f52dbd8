import { dnEquals, dnFromDer, dnFromX509, dnIssuerFromX509, formatDn, type Rdn } from '@hookwarden/verify/dn';
import { certificatesFromPem } from './chain.ts';
import type { ProbeResult } from './probe.ts';
import type { CheckReport, ClientIdentity } from './types.ts';

/**
 * Client authentication, decided from what the server did:
 * - requested: a CertificateRequest in the handshake (read from the wire; TLS 1.3 after decryption);
 * - required: without a certificate the connection is refused — by an alert during or right after
 *   the handshake (OpenSSL, Node, HAProxy), or at the HTTP layer (nginx answers 400 "No required SSL
 *   certificate was sent", internally 496; an app verifying the certificate itself, 401 or 403).
 */

const NGINX_NO_CERT = /No required SSL certificate was sent/i;
const NGINX_BAD_CERT = /The SSL certificate error/i;

/**
 * The server refused a request made without a certificate. An app that asks for the certificate in
 * the handshake and refuses its absence itself (401/403, as @hookwarden/verify and the gate answer)
 * refuses as surely as a handshake that fails: that is the setup docs/receiving.md recommends.
 */
export function refusedWithoutCertificate(p: ProbeResult): boolean {
  const status = p.response?.statusCode;
  if (status === 496) return true;
  // Only after the server asked for a certificate: otherwise a 401 may be any authentication.
  if ((status === 401 || status === 403) && Array.isArray(p.view?.certificateRequest)) return true;
  if (p.response?.statusCode === 400 && NGINX_NO_CERT.test(p.response.text)) return true;
  // An alert after a CertificateRequest, with everything else the same as a working handshake.
  return (
    p.failure?.kind === 'alert' && p.failure.alert !== 'protocol_version' && Array.isArray(p.view?.certificateRequest)
  );
}

/** Why a request made with the platform's certificate was refused, if it was. */
export function refusedWithCertificate(p: ProbeResult): string | undefined {
  if (p.failure?.kind === 'alert') return `the server sent the TLS alert ${p.failure.alert}`;
  if (p.failure && p.failure.kind !== 'timeout') return p.failure.message;
  if (p.response?.statusCode === 495 || (p.response?.statusCode === 400 && NGINX_BAD_CERT.test(p.response.text))) {
    return 'the server could not verify the certificate (nginx: 400 "The SSL certificate error")';
  }
  if (p.response?.statusCode === 496 || (p.response?.statusCode === 400 && NGINX_NO_CERT.test(p.response.text))) {
    return 'the server received no certificate';
  }
  return undefined;
}

/** An advertised CA name as an RFC 4514 string; unreadable DER is shown as hex rather than dropped. */
export function describeName(der: Buffer): string {
  try {
    return formatDn(dnFromDer(der));
  } catch {
    return `#${der.toString('hex')}`;
  }
}

function readName(der: Buffer): Rdn[] | undefined {
  try {
    return dnFromDer(der);
  } catch {
    return undefined;
  }
}

/** Names of the platform's CAs: the bundle's certificates and the issuers in the identity's chain. */
export function platformCaNames(platformCaPem: string | undefined, identity: ClientIdentity | undefined): Rdn[][] {
  const names: Rdn[][] = [];
  for (const cert of certificatesFromPem(platformCaPem ?? '')) names.push(dnFromX509(cert));
  for (const cert of certificatesFromPem(identity?.chainPem || identity?.certPem || ''))
    names.push(dnIssuerFromX509(cert));
  return names;
}

export function decideClientAuth(input: {
  /** Requests made without a certificate, TLS 1.2 and 1.3 (undefined when the version is off). */
  withoutCertificate: ProbeResult[];
  withPlatformCertificate?: ProbeResult;
  platformNames: Rdn[][];
}): CheckReport['clientAuth'] {
  const views = input.withoutCertificate.map((p) => p.view?.certificateRequest).filter((v) => v !== undefined);
  const requests = views.filter((v): v is Buffer[] => v !== null);
  const requested = requests.length > 0 ? true : views.length > 0 ? false : undefined;
  const refused = input.withoutCertificate.some(refusedWithoutCertificate);
  const answered = input.withoutCertificate.some((p) => p.handshake && !refusedWithoutCertificate(p) && !p.failure);

  const detectedBy: string[] = [];
  if (requested !== undefined) detectedBy.push('certificate-request');
  if (refused || answered) detectedBy.push('behaviour');
  let mode: CheckReport['clientAuth']['mode'] = 'unknown';
  if (requested === false && !refused) mode = 'none';
  else if (refused) mode = 'required';
  else if (requested && answered) mode = 'optional';

  const caDer = requests[0] ?? [];
  const clientAuth: CheckReport['clientAuth'] = {
    mode,
    detectedBy,
    caNames: caDer.map(describeName),
    platformCaAdvertised:
      requests.length === 0 || caDer.length === 0 || input.platformNames.length === 0
        ? null
        : caDer.some((der) => {
            const name = readName(der);
            return name !== undefined && input.platformNames.some((p) => dnEquals(p, name));
          }),
    withPlatformCertificate: { attempted: false, ok: null },
  };
  const p = input.withPlatformCertificate;
  if (p) {
    const why = refusedWithCertificate(p);
    clientAuth.withPlatformCertificate = { attempted: true, ok: why === undefined && p.handshake };
    if (why) clientAuth.withPlatformCertificate.error = why;
    else if (!p.handshake && p.failure) clientAuth.withPlatformCertificate.error = p.failure.message;
    if (p.response?.statusCode !== undefined) clientAuth.withPlatformCertificate.statusCode = p.response.statusCode;
  }
  return clientAuth;
}
