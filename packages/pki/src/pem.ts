import { X509Certificate } from 'node:crypto';
import { PKI_CODES, PkiError } from './errors.ts';

const MAX_PEM_CHARS = 1_000_000;
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * The DER of every CERTIFICATE block in a PEM text, in order. Anything else between blocks is
 * ignored, as OpenSSL does; no certificate at all, or a block that is not base64, is an error.
 */
export function certificateDers(pem: string, what = 'certificate'): Buffer[] {
  if (typeof pem !== 'string') throw new PkiError(PKI_CODES.PEM_INVALID, `the ${what} must be PEM text`);
  // Certificate files are kilobytes; refusing megabytes keeps the block scan linear in practice.
  if (pem.length > MAX_PEM_CHARS) {
    throw new PkiError(
      PKI_CODES.PEM_INVALID,
      `the ${what} is larger than ${MAX_PEM_CHARS} characters: give a PEM file`,
    );
  }
  const out: Buffer[] = [];
  for (const match of pem.matchAll(BLOCK)) {
    if (match[1] !== 'CERTIFICATE') continue;
    const body = match[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new PkiError(PKI_CODES.PEM_INVALID, `the ${what} holds a CERTIFICATE block that is not valid base64`);
    }
    out.push(Buffer.from(body, 'base64'));
  }
  if (out.length === 0) {
    throw new PkiError(
      PKI_CODES.PEM_INVALID,
      `the ${what} holds no "-----BEGIN CERTIFICATE-----" block: give the PEM certificate file`,
    );
  }
  return out;
}

/** Parses one certificate (PEM text or DER bytes). Throws HW_PKI_PEM_INVALID. */
export function toX509(cert: string | Uint8Array, what = 'certificate'): X509Certificate {
  const der = typeof cert === 'string' ? certificateDers(cert, what)[0]! : cert;
  try {
    const x = new X509Certificate(der);
    // A key Node cannot read (a mangled curve OID) parses here and throws OpenSSL's error on first
    // use; reading it now (Node keeps it) makes that a PkiError for every caller.
    void x.publicKey;
    return x;
  } catch (cause) {
    throw new PkiError(PKI_CODES.PEM_INVALID, `the ${what} is not a readable X.509 certificate`, { cause });
  }
}

/** Every certificate of a PEM text, parsed. */
export function toX509s(pem: string, what = 'certificate'): X509Certificate[] {
  return certificateDers(pem, what).map((der) => toX509(der, what));
}

/** PEM of a DER certificate, 64-column base64, trailing newline. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Normalises PEM text (any certificates it holds) to our one layout. */
export function normalisePem(pem: string, what = 'certificate'): string {
  return certificateDers(pem, what)
    .map((der) => derToPem(der))
    .join('');
}
