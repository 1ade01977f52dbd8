import type { X509Certificate } from 'node:crypto';
import { dnFromX509, formatDn } from '@hookwarden/verify/dn';
import { PKI_CODES, PkiError } from './errors.ts';
import { readPrivateKey } from './keys.ts';
import { derToPem, toX509s } from './pem.ts';
import { decodeExtensions, x509 } from './x509.ts';

/** A client identity that passed every check: what the platform presents and what receivers trust. */
export interface ValidIdentity {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  /** Leaf then intermediates: what the client sends in the handshake. */
  chainPem: string;
  /** Intermediates then the root: what receivers configure as trusted CAs. */
  caBundlePem: string;
}

/**
 * Receivers' nginx counts intermediates with `ssl_verify_depth` (default 1); more than this many is
 * refused, because every receiver would have to raise its setting.
 */
export const MAX_INTERMEDIATES = 3;

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function name(c: X509Certificate): string {
  return `"${formatDn(dnFromX509(c))}"`;
}

function isSelfSigned(c: X509Certificate): boolean {
  return c.checkIssued(c) && c.verify(c.publicKey);
}

function checkTime(c: X509Certificate, now: Date, role: string): void {
  const from = new Date(c.validFrom);
  const to = new Date(c.validTo);
  if (now < from) {
    throw new PkiError(
      PKI_CODES.CERT_NOT_YET_VALID,
      `the ${role} ${name(c)} is not valid before ${from.toISOString()}: check the clock, or import it once it is valid`,
    );
  }
  if (now > to) {
    throw new PkiError(
      PKI_CODES.CERT_EXPIRED,
      `the ${role} ${name(c)} expired at ${to.toISOString()}: renew it with its CA and import the new one`,
    );
  }
}

/**
 * Checks an externally issued client certificate, its key and its chain, in the order an operator
 * fixes them; the first failure is thrown with its own code. Key material never enters a message.
 */
export function validateIdentity(
  input: { certPem: string; keyPem: string; chainPem: string },
  now: Date = new Date(),
): ValidIdentity {
  const given = toX509s(input.certPem, 'certificate (--cert)');
  const leaf = given[0]!;
  const key = readPrivateKey(input.keyPem, 'private key (--key)');
  if (!leaf.checkPrivateKey(key)) {
    throw new PkiError(
      PKI_CODES.KEY_MISMATCH,
      `the private key does not belong to the certificate ${name(leaf)}: give the key the certificate was issued for`,
    );
  }
  if (leaf.ca) {
    throw new PkiError(
      PKI_CODES.LEAF_IS_CA,
      `the certificate ${name(leaf)} is a CA certificate: give the client (leaf) certificate as --cert and the CAs as --chain`,
    );
  }
  const peculiar = decodeExtensions(leaf);
  const eku = peculiar.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku?.usages.map(String).includes(CLIENT_AUTH)) {
    throw new PkiError(
      PKI_CODES.EKU_MISSING,
      `the certificate ${name(leaf)} lacks the extended key usage clientAuth (TLS Web Client Authentication); receivers will refuse it: ask the CA for a client certificate`,
    );
  }
  const ku = peculiar.getExtension(x509.KeyUsagesExtension);
  if (ku && !(ku.usages & x509.KeyUsageFlags.digitalSignature)) {
    throw new PkiError(
      PKI_CODES.KEY_USAGE_MISSING,
      `the certificate ${name(leaf)} has a key usage without digitalSignature, so it cannot sign a TLS handshake: ask the CA to include it`,
    );
  }
  checkTime(leaf, now, 'certificate');

  // The chain: what followed the leaf in --cert, then --chain; a copy of the leaf is tolerated.
  const chain = [
    ...given.slice(1),
    ...(input.chainPem.trim() === '' ? [] : toX509s(input.chainPem, 'chain (--chain)')),
  ].filter((c) => !c.raw.equals(leaf.raw));
  if (chain.length === 0) {
    throw new PkiError(
      PKI_CODES.CHAIN_BROKEN,
      `no CA certificates were given for ${name(leaf)}: give the intermediate(s) and the root as --chain`,
    );
  }
  let child = leaf;
  for (const ca of chain) {
    if (!(child.checkIssued(ca) && child.verify(ca.publicKey))) {
      throw new PkiError(
        PKI_CODES.CHAIN_BROKEN,
        `the chain is broken: ${name(child)} was not issued by ${name(ca)}; order --chain from the issuer of the leaf up to the root`,
      );
    }
    if (!ca.ca) {
      throw new PkiError(
        PKI_CODES.CHAIN_NOT_CA,
        `${name(ca)} in the chain is not a CA certificate: remove it from --chain`,
      );
    }
    checkTime(ca, now, 'CA certificate');
    child = ca;
  }
  const root = chain[chain.length - 1]!;
  if (!isSelfSigned(root)) {
    throw new PkiError(
      PKI_CODES.CHAIN_BROKEN,
      `the chain ends at ${name(root)}, which is not a root (self-signed) CA: append the root CA certificate to --chain`,
    );
  }
  const intermediates = chain.slice(0, -1);
  if (intermediates.length > MAX_INTERMEDIATES) {
    throw new PkiError(
      PKI_CODES.CHAIN_TOO_DEEP,
      `the chain has ${intermediates.length} intermediate CAs; at most ${MAX_INTERMEDIATES} are accepted so receivers' verify depth (nginx ssl_verify_depth) stays small`,
    );
  }
  // pathLenConstraint: a CA may have at most that many intermediates below it.
  chain.forEach((ca, i) => {
    const bc = decodeExtensions(ca, 'CA certificate').getExtension(x509.BasicConstraintsExtension);
    if (bc?.pathLength !== undefined && i > bc.pathLength) {
      throw new PkiError(
        PKI_CODES.CHAIN_TOO_DEEP,
        `${name(ca)} allows ${bc.pathLength} intermediate CA(s) below it (pathLen), but the chain has ${i}`,
      );
    }
  });
  return {
    certPem: derToPem(leaf.raw),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    chainPem: [leaf, ...intermediates].map((c) => derToPem(c.raw)).join(''),
    caBundlePem: chain.map((c) => derToPem(c.raw)).join(''),
  };
}
