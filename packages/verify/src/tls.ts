/**
 * TLS ending in this process: the facts verify() needs from a socket, and the `https.createServer`
 * options that request client certificates.
 */
import { X509Certificate } from 'node:crypto';
import type { ServerOptions } from 'node:https';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { parsePemBundle } from './certificate.ts';
import { PolicyError } from './errors.ts';
import type { VerifyRequest } from './verifier.ts';

/** Longest chain read from the socket; the issuer links of a peer certificate can cycle at the root. */
const MAX_CHAIN = 10;

function toPem(raw: Buffer): string {
  return new X509Certificate(raw).toString();
}

export function tlsFactsFromSocket(socket: TLSSocket): VerifyRequest['tls'] {
  if (!socket.encrypted) return undefined;
  const peer = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  const chain: string[] = [];
  // With no client certificate Node returns an empty object, not null.
  if (peer && 'raw' in peer && peer.raw) {
    let c: DetailedPeerCertificate | undefined = peer as DetailedPeerCertificate;
    const seen = new Set<string>();
    while (c?.raw && chain.length < MAX_CHAIN) {
      const key = c.raw.toString('base64');
      if (seen.has(key)) break;
      seen.add(key);
      chain.push(toPem(c.raw));
      c = c.issuerCertificate;
    }
  }
  const cipher = socket.getCipher();
  const protocol = socket.getProtocol();
  const error = socket.authorizationError;
  return {
    encrypted: true,
    authorized: socket.authorized === true,
    ...(error ? { authorizationError: String(error) } : {}),
    peerCertificates: chain,
    ...(protocol ? { protocol } : {}),
    ...(cipher?.name ? { cipher: cipher.name } : {}),
  };
}

export interface HttpsServerOptionsInput {
  /** The server's certificate chain (PEM) and key. */
  certPem: string;
  keyPem: string;
  /** CAs whose client certificates are accepted: trusted and advertised in the CertificateRequest. */
  clientCaPem: string;
  /**
   * true (default): the TLS handshake already refuses certificate-less or untrusted clients.
   * false: let them in and let verify() answer with a precise code (HW_CERT_MISSING, ...).
   */
  rejectUnauthorized?: boolean;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
}

/** Options for `https.createServer` requesting a client certificate on every connection. */
export function httpsServerOptions(input: HttpsServerOptionsInput): ServerOptions {
  if (typeof input?.certPem !== 'string' || !input.certPem.includes('BEGIN CERTIFICATE')) {
    throw new PolicyError('certPem', 'must be a PEM certificate chain');
  }
  if (typeof input.keyPem !== 'string' || !/BEGIN [A-Z ]*PRIVATE KEY/.test(input.keyPem)) {
    throw new PolicyError('keyPem', 'must be a PEM private key');
  }
  parsePemBundle(input.clientCaPem, 'clientCaPem');
  return {
    cert: input.certPem,
    key: input.keyPem,
    ca: input.clientCaPem,
    requestCert: true,
    rejectUnauthorized: input.rejectUnauthorized ?? true,
    minVersion: input.minVersion ?? 'TLSv1.2',
    ...(input.ciphers ? { ciphers: input.ciphers } : {}),
  };
}
