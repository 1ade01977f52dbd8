/**
 * What a TLS-terminating proxy tells us about the client certificate, in one shape for every kind.
 * Parsers only translate headers; every decision is taken by the verifier on these facts.
 */
import type { X509Certificate } from 'node:crypto';
import type { KnownFingerprints } from '../certificate.ts';
import { parseCertificate } from '../certificate.ts';
import { VerificationError } from '../errors.ts';
import { Lru } from '../lru.ts';
import type { Headers } from '../signature.ts';

export type ProxyKind = 'nginx' | 'envoy' | 'haproxy' | 'caddy' | 'traefik' | 'aws-alb' | 'rfc9440';

export interface ProxyCertFacts {
  /**
   * true: the proxy says it verified the certificate; false: it says verification failed;
   * undefined: this proxy kind does not say (then our own chain check or a pin must vouch).
   */
  verified?: boolean;
  /** The proxy's reason when verification failed. */
  failure?: string;
  /** The subject DN as text (RFC 4514 / 2253), when the proxy gives it. */
  subject?: string;
  fingerprints: KnownFingerprints;
  /** The leaf certificate itself, when the proxy passes it: then it is the source of truth. */
  cert?: X509Certificate;
  /** Further certificates the proxy passed (intermediates), leaf excluded. */
  chain: X509Certificate[];
  /** DNS SANs stated by the proxy, used only when the certificate itself is not passed. */
  dnsNames?: string[];
}

export interface ProxyHeaderParser {
  /** Lower-case names of every header this kind sets: their presence from an untrusted peer is refused. */
  headers: readonly string[];
  /** undefined when the proxy passed no certificate. Throws only VerificationError. */
  parse(headers: Headers): ProxyCertFacts | undefined;
}

/** Headers are capped: a certificate chain fits in well under this. */
const MAX_HEADER = 64 * 1024;

/** One header value; a repeated header is refused (an inbound copy the proxy failed to clear). */
export function one(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    if (v.length > 1) throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} appears more than once`);
    return nonEmpty(v[0]!, name);
  }
  return nonEmpty(v, name);
}

/**
 * One value of a header whose format never holds a comma (URL-encoded PEM, base64 DER, a
 * structured-field byte sequence). node:http's `req.headers` and fetch's Headers join repeated
 * lines with ", ": a comma here means a client's copy arrived ahead of the proxy's own, and reading
 * on would take the client's certificate for the proxy's. Refused like a repeated line.
 */
export function oneEntry(headers: Headers, name: string): string | undefined {
  const v = one(headers, name);
  if (v?.includes(',')) throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} appears more than once`);
  return v;
}

function nonEmpty(v: string, name: string): string | undefined {
  if (v.length > MAX_HEADER) throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} is too large`);
  const t = v.trim();
  // Proxies send an empty value (or "-", "(null)") when there is no certificate.
  return t === '' || t === '-' || t === '(null)' ? undefined : t;
}

export function urlDecode(value: string, name: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} is not URL-encoded`);
  }
}

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

export function base64Bytes(value: string, name: string): Buffer {
  if (!BASE64.test(value)) throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} is not base64`);
  return Buffer.from(value, 'base64');
}

export function hexFingerprint(value: string | undefined, bytes: number, name: string): string | undefined {
  if (value === undefined) return undefined;
  const hex = value.replace(/:/g, '').toLowerCase();
  if (hex.length !== bytes * 2 || !/^[0-9a-f]+$/.test(hex)) {
    throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} is not a ${bytes}-byte hex fingerprint`);
  }
  return hex;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** All certificates of a PEM text (leaf first); at least one. */
export function pemCertificates(pem: string, name: string): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new VerificationError('HW_CERT_INVALID', `${name} holds no PEM certificate`);
  if (blocks.length > 10) throw new VerificationError('HW_PROXY_HEADER_INVALID', `${name} holds too many certificates`);
  return blocks.map((b) => parseCertificate(b, name));
}

/**
 * Certificates of a URL-encoded PEM header (nginx's `$ssl_client_escaped_cert`, XFCC `Cert`, the
 * ALB headers), remembered by the header text: a keep-alive stream repeats the same value, and
 * decoding, splitting and hashing it measured about half of verify() with a forwarded certificate.
 * The result is a pure function of the text; failures are not remembered.
 */
const escaped = new Lru<string, readonly X509Certificate[]>(128);
const MAX_REMEMBERED = 16 * 1024;

// The last value seen, compared before the map: hashing a fresh 1-2 KB header string for the map
// lookup showed in profiles, comparing it with the previous one costs less.
let last: { value: string; certs: readonly X509Certificate[] } | undefined;

export function escapedPemCertificates(value: string, name: string): X509Certificate[] {
  if (last?.value === value) return [...last.certs];
  let certs = escaped.get(value);
  if (!certs) {
    certs = pemCertificates(urlDecode(value, name), name);
    if (value.length > MAX_REMEMBERED) return [...certs];
    escaped.set(value, certs);
  }
  last = { value, certs };
  return [...certs];
}

/** Removes one pair of surrounding double quotes (HAProxy's `%{+Q}`), honouring `\"`. */
export function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(["\\])/g, '$1');
  return v;
}
