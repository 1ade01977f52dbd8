import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { dnFromX509, dnIssuerFromX509, formatDn } from '@hookwarden/verify/dn';
import { sanitizeText } from './render.ts';
import type { CertificateSummary, CheckReport } from './types.ts';

const DAY_MS = 86_400_000;

function parse(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** PEM bundle → certificates; unreadable blocks are skipped (options were validated earlier). */
export function certificatesFromPem(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((b) => {
    try {
      return [new X509Certificate(b)];
    } catch {
      return [];
    }
  });
}

let publicRoots: X509Certificate[] | undefined;
function trustAnchors(serverCaPem: string | undefined): X509Certificate[] {
  if (serverCaPem !== undefined) return certificatesFromPem(serverCaPem);
  publicRoots ??= certificatesFromPem(rootCertificates.join('\n'));
  return publicRoots;
}

/** `issuer` issued `cert`: names match and the signature verifies. */
function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** RFC 4514 from the DER (Node's own rendering is one attribute per line and not escaped). */
function nameOf(read: () => Parameters<typeof formatDn>[0], fallback: string): string {
  try {
    return formatDn(read());
  } catch {
    // Node's rendering keeps the certificate's characters raw: make them inert like formatDn does.
    return sanitizeText(fallback.replaceAll('\n', ', '));
  }
}

export function summarize(cert: X509Certificate, nowMs: number): CertificateSummary {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const summary: CertificateSummary = {
    subject: nameOf(() => dnFromX509(cert), cert.subject),
    issuer: nameOf(() => dnIssuerFromX509(cert), cert.issuer),
    fingerprintSha256: cert.fingerprint256,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    daysToExpiry: Math.floor((Date.parse(cert.validTo) - nowMs) / DAY_MS),
    keyType: key.asymmetricKeyType ?? 'unknown',
    selfSigned: issued(cert, cert),
    isCa: cert.ca,
  };
  if (details.modulusLength !== undefined) summary.keyBits = details.modulusLength;
  if (details.namedCurve !== undefined) summary.curve = details.namedCurve;
  return summary;
}

export interface ChainInput {
  /** Certificates in the order the server sent them, or as Node completed the chain. */
  der: Buffer[];
  source: 'handshake' | 'peer';
  host: string;
  serverCaPem?: string;
  /** From a handshake made with the dispatcher's configuration. */
  authorized?: boolean;
  authorizationError?: string;
  nowMs: number;
}

/**
 * Judges the chain the server sends: does it lead from the leaf to a trust anchor using only what
 * was sent (complete), in order (each certificate followed by its issuer), for the right host?
 */
export function analyzeChain(input: ChainInput): CheckReport['chain'] {
  const certs = input.der.map(parse).filter((c): c is X509Certificate => c !== undefined);
  const leaf = certs[0];
  const chain: CheckReport['chain'] = {
    source: input.source,
    certificates: certs.map((c) => summarize(c, input.nowMs)),
    trusted: input.authorized ?? null,
    complete: null,
    ordered: null,
    hostnameMatch: null,
  };
  if (input.authorizationError) chain.trustError = input.authorizationError;
  if (!leaf) return chain;
  chain.daysToExpiry = chain.certificates[0]!.daysToExpiry;
  chain.hostnameMatch =
    isIP(input.host) !== 0 ? leaf.checkIP(input.host) !== undefined : leaf.checkHost(input.host) !== undefined;

  // Walk issuer links through the sent certificates only, bounded by their number.
  const path = [leaf];
  let current = leaf;
  let reachedAnchor = false;
  for (let i = 0; i < certs.length; i++) {
    if (issued(current, current)) {
      reachedAnchor = true;
      break;
    }
    const next = certs.find((c) => !path.includes(c) && issued(c, current));
    if (!next) {
      reachedAnchor = trustAnchors(input.serverCaPem).some((a) => issued(a, current));
      break;
    }
    path.push(next);
    current = next;
  }
  // Only meaningful for the bytes from the wire: Node's completed chain is always "complete".
  // Sent intermediates that end below an unknown root are complete (and untrusted); a leaf whose
  // issuer is neither sent nor trusted is the classic missing intermediate.
  if (input.source === 'handshake') {
    chain.complete = reachedAnchor || current.ca;
    chain.ordered = path.every((c, i) => certs[i] === c);
  }
  return chain;
}
