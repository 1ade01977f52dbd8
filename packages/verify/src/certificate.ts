/**
 * Client-certificate checks on parsed X.509 certificates: chain building to a CA bundle within a
 * depth, the constraints every certificate of the path sets (basic constraints and path length,
 * key usage, extended key usage, name constraints, critical extensions), validity, the client
 * purpose, fingerprint pins and DNS names. Everything is read from the DER, never from strings a
 * proxy or an attacker could shape.
 */
import { createHash, type KeyObject, timingSafeEqual, X509Certificate } from 'node:crypto';
import { DerError } from './der.ts';
import { PolicyError, VerificationError } from './errors.ts';
import { type CertificateFacts, certificateFacts, OID } from './extensions.ts';
import { Lru } from './lru.ts';
import { nameConstraintViolation, sameName, unsupportedConstraints } from './name-constraints.ts';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
/** Key usage bits (RFC 5280 §4.2.1.3). */
const DIGITAL_SIGNATURE = 0;
const KEY_CERT_SIGN = 5;
/** Netscape cert type bit for SSL clients. */
const NS_SSL_CLIENT = 0;
/** Longest chain we build, whatever maxDepth says: bounds the work on hostile bundles. */
const MAX_CHAIN = 10;
/** A certificate header larger than this is not a certificate we issue. */
const MAX_CERT_BYTES = 16 * 1024;

/**
 * Parsed certificates by the SHA-256 of their exact input text or bytes. The platform presents the
 * same certificate on every request, and parsing it cost ~14% of a request that carries it
 * (bench/gate.ts). Parsing is a pure function of the input, and X509Certificate is immutable, so
 * sharing one instance is safe; failures are not remembered (they are cheap and must stay loud).
 */
const parsed = new Lru<string, X509Certificate>(512);

/** Parses one certificate given as PEM or DER; anything else is HW_CERT_INVALID. */
export function parseCertificate(input: string | Uint8Array, what = 'client certificate'): X509Certificate {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size === 0 || size > MAX_CERT_BYTES * 2)
    throw new VerificationError('HW_CERT_INVALID', `${what} has no usable size`);
  const key = `${typeof input === 'string' ? 's' : 'b'}${createHash('sha256').update(input).digest('base64')}`;
  const known = parsed.get(key);
  if (known) return known;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(typeof input === 'string' ? input : Buffer.from(input));
  } catch (err) {
    throw new VerificationError('HW_CERT_INVALID', `${what} is not an X.509 certificate`, { cause: err });
  }
  // Read the key now: a certificate whose key does not decode must fail here, as a bad certificate.
  publicKeyOf(cert, what);
  parsed.set(key, cert);
  return cert;
}

/**
 * Facts derived from one parsed certificate, computed once per instance: each is a pure function of
 * the DER, and exporting the public key for the SPKI pin alone measured ~26% of a request's CPU.
 */
interface Derived {
  publicKey?: KeyObject;
  fingerprints?: Readonly<Fingerprints>;
  validity?: Readonly<{ from: number; to: number }>;
  selfIssued?: boolean;
  dnsNames?: string[];
  facts?: CertificateFacts;
}
const derived = new WeakMap<X509Certificate, Derived>();

function derivedOf(cert: X509Certificate): Derived {
  let d = derived.get(cert);
  if (!d) {
    d = {};
    derived.set(cert, d);
  }
  return d;
}

/**
 * The certificate's public key. X509Certificate parses a certificate whose SubjectPublicKeyInfo
 * does not decode (an invalid EC point, say) and only `.publicKey` throws, an OpenSSL error that
 * would escape verify() as a 500: it is HW_CERT_INVALID, read once and remembered.
 */
export function publicKeyOf(cert: X509Certificate, what = 'client certificate'): KeyObject {
  const d = derivedOf(cert);
  if (!d.publicKey) {
    try {
      d.publicKey = cert.publicKey;
    } catch (err) {
      throw new VerificationError('HW_CERT_INVALID', `${what} has a public key that cannot be decoded`, {
        cause: err,
      });
    }
  }
  return d.publicKey;
}

/** Every certificate of a PEM bundle, for policy fields: errors name the field. */
export function parsePemBundle(pem: string, field: string): X509Certificate[] {
  if (typeof pem !== 'string') throw new PolicyError(field, 'must be a PEM string');
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new PolicyError(field, 'holds no PEM certificate');
  return blocks.map((block, i) => {
    try {
      const cert = new X509Certificate(block);
      publicKeyOf(cert);
      factsOf(cert);
      return cert;
    } catch {
      throw new PolicyError(field, `certificate ${i + 1} cannot be parsed`);
    }
  });
}

export interface Fingerprints {
  /** Lower-case hex SHA-256 of the DER. */
  sha256Hex: string;
  sha1Hex: string;
  /** Base64 SHA-256 of the SubjectPublicKeyInfo (HPKP style). */
  spkiSha256: string;
}

export function fingerprintsOf(cert: X509Certificate): Readonly<Fingerprints> {
  const d = derivedOf(cert);
  if (!d.fingerprints) {
    const spki = publicKeyOf(cert).export({ type: 'spki', format: 'der' });
    d.fingerprints = Object.freeze({
      sha256Hex: createHash('sha256').update(cert.raw).digest('hex'),
      sha1Hex: createHash('sha1').update(cert.raw).digest('hex'),
      spkiSha256: createHash('sha256').update(spki).digest('base64'),
    });
  }
  return d.fingerprints;
}

/** `AB:CD:..` → `abcd..`. */
export function colonHex(fp: string): string {
  return fp.replace(/:/g, '').toLowerCase();
}

export type Pin = { kind: 'sha256' | 'sha1' | 'spki'; value: Buffer };

/**
 * Pins as operators copy them: hex SHA-256 or SHA-1 of the certificate (colons optional; SHA-1 is
 * what nginx's `$ssl_client_fingerprint` gives), or the base64 SPKI SHA-256 (optionally `sha256/`).
 */
export function parsePin(pin: string, field: string): Pin {
  if (typeof pin !== 'string') throw new PolicyError(field, 'must be a string');
  const hex = pin.replace(/:/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return { kind: 'sha256', value: Buffer.from(hex, 'hex') };
  if (/^[0-9a-fA-F]{40}$/.test(hex)) return { kind: 'sha1', value: Buffer.from(hex, 'hex') };
  const b64 = pin.startsWith('sha256/') ? pin.slice(7) : pin;
  if (/^[A-Za-z0-9+/]{43}=$/.test(b64)) return { kind: 'spki', value: Buffer.from(b64, 'base64') };
  throw new PolicyError(field, 'is neither a hex SHA-256/SHA-1 fingerprint nor a base64 SPKI SHA-256');
}

/** Known fingerprints of the presented certificate; a proxy may give only some of them. */
export type KnownFingerprints = Partial<Fingerprints>;

export function pinMatches(pins: readonly Pin[], fp: KnownFingerprints): boolean {
  const given: Record<Pin['kind'], Buffer | undefined> = {
    sha256: fp.sha256Hex ? Buffer.from(fp.sha256Hex, 'hex') : undefined,
    sha1: fp.sha1Hex ? Buffer.from(fp.sha1Hex, 'hex') : undefined,
    spki: fp.spkiSha256 ? Buffer.from(fp.spkiSha256, 'base64') : undefined,
  };
  let match = false;
  for (const pin of pins) {
    const g = given[pin.kind];
    if (g && g.length === pin.value.length) match = timingSafeEqual(g, pin.value) || match;
  }
  return match;
}

/**
 * `X509Certificate.subjectAltName` as a list of [type, value]. Node JSON-quotes values holding
 * separators (since the fix for CVE-2021-44532), so splitting on ", " would be exploitable.
 */
export function subjectAltNames(cert: X509Certificate): [string, string][] {
  const s = cert.subjectAltName;
  if (!s) return [];
  const out: [string, string][] = [];
  let i = 0;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (s[j] === '"') {
      let k = j + 1;
      while (k < s.length && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(s.slice(j, k + 1)) as string;
      } catch {
        value = '';
      }
      j = k + 1;
    } else {
      const end = s.indexOf(', ', j);
      value = s.slice(j, end < 0 ? s.length : end);
      j = end < 0 ? s.length : end;
    }
    out.push([type, value]);
    i = s.startsWith(', ', j) ? j + 2 : s.length;
  }
  return out;
}

/** A DNS name we are willing to compare: LDH labels, an optional leading `*.`. NUL and friends never match. */
const DNS_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The certificate's usable DNS SANs, lower-cased. A fresh array: callers may keep or change it. */
export function dnsNamesOf(cert: X509Certificate): string[] {
  const d = derivedOf(cert);
  d.dnsNames ??= subjectAltNames(cert)
    .filter(([type]) => type === 'DNS')
    .map(([, v]) => v.toLowerCase())
    .filter((v) => DNS_NAME.test(v));
  return [...d.dnsNames];
}

/**
 * RFC 6125 matching of one certificate name against an expected host name: a wildcard is the whole
 * left-most label, stands for exactly one label, and needs at least two labels after it.
 */
export function dnsNameMatches(certName: string, expected: string): boolean {
  const name = certName.toLowerCase().replace(/\.$/, '');
  const want = expected.toLowerCase().replace(/\.$/, '');
  if (!DNS_NAME.test(name) || !DNS_NAME.test(want) || want.startsWith('*.')) return false;
  if (!name.startsWith('*.')) return name === want;
  const suffix = name.slice(1); // ".example.com"
  if (suffix.split('.').length < 3) return false;
  if (!want.endsWith(suffix)) return false;
  const label = want.slice(0, want.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** The extensions and names of a certificate, read from its DER once. Throws HW_CERT_INVALID. */
function factsOf(cert: X509Certificate, what = 'a certificate of the chain'): CertificateFacts {
  const d = derivedOf(cert);
  if (!d.facts) {
    try {
      d.facts = certificateFacts(cert.raw);
    } catch (err) {
      if (!(err instanceof DerError)) throw err;
      throw new VerificationError('HW_CERT_INVALID', `${what} has extensions that cannot be read: ${err.message}`);
    }
  }
  return d.facts;
}

/**
 * Why `cert` cannot authenticate a TLS client, or undefined. A CA certificate never can (OpenSSL
 * would accept one as a leaf; a receiver has no reason to). Key usage, when present, must allow
 * digitalSignature (the CertificateVerify signature; OpenSSL also allows keyAgreement, for the
 * fixed-DH client authentication no TLS stack here offers); a Netscape cert type, when present,
 * must allow SSL clients. `requireEku`: the extended key usage must name clientAuth
 * (anyExtendedKeyUsage is not enough: OpenSSL refuses it for sslclient too).
 */
export function clientUsageProblem(cert: X509Certificate, requireEku: boolean): string | undefined {
  const f = factsOf(cert, 'the client certificate');
  if (f.basicConstraints?.ca) return 'it is a CA certificate';
  if (f.keyUsage && !f.keyUsage[DIGITAL_SIGNATURE]) return 'its key usage does not include digitalSignature';
  if (f.nsCertType && !f.nsCertType[NS_SSL_CLIENT]) return 'its Netscape certificate type excludes SSL clients';
  if (requireEku && !f.extendedKeyUsage?.includes(OID.clientAuth)) {
    return f.extendedKeyUsage
      ? 'its extended key usage does not include clientAuth'
      : 'it has no extended key usage (clientAuth is required)';
  }
  return undefined;
}

/** notBefore and notAfter in milliseconds. */
export function validityOf(cert: X509Certificate): Readonly<{ from: number; to: number }> {
  const d = derivedOf(cert);
  d.validity ??= Object.freeze({ from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) });
  return d.validity;
}

function withinValidity(cert: X509Certificate, nowMs: number): boolean {
  const { from, to } = validityOf(cert);
  // NaN (an unparseable date) compares false: outside the window, fail closed.
  return from <= nowMs && nowMs <= to;
}

export function checkValidity(cert: X509Certificate, nowMs: number, what = 'the client certificate'): void {
  if (!withinValidity(cert, nowMs)) {
    throw new VerificationError('HW_CERT_EXPIRED', `${what} is valid from ${cert.validFrom} to ${cert.validTo}`);
  }
}

function isSelfIssued(cert: X509Certificate): boolean {
  const d = derivedOf(cert);
  d.selfIssued ??= cert.subject === cert.issuer && cert.checkIssued(cert) && cert.verify(publicKeyOf(cert));
  return d.selfIssued;
}

/**
 * Builds leaf → intermediates → anchor from the presented chain and the trusted bundle. Any bundle
 * certificate is an anchor (an operator may trust only the platform's intermediate). `maxDepth`
 * counts intermediates as nginx's `ssl_verify_depth` does: leaf → intermediate → root is depth 1.
 * Returns the path, leaf first.
 */
export function verifyChain(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  maxDepth: number,
  nowMs: number,
): X509Certificate[] {
  const path = buildPath(leaf, presented, anchors);
  checkPath(path, maxDepth, nowMs);
  return path;
}

/**
 * The time-independent half of verifyChain: the issuer path and its signatures. Throws
 * HW_CERT_UNTRUSTED when there is none.
 */
export function buildPath(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
): X509Certificate[] {
  const isAnchor = (c: X509Certificate) => anchors.some((a) => a.raw.equals(c.raw));
  const path = [leaf];
  let current = leaf;
  for (;;) {
    if (isAnchor(current) && (isSelfIssued(current) || !findIssuer(current, anchors))) break;
    const issuer = findIssuer(current, anchors) ?? findIssuer(current, presented);
    if (!issuer || path.length >= MAX_CHAIN || path.some((c) => c.raw.equals(issuer.raw))) {
      throw new VerificationError(
        'HW_CERT_UNTRUSTED',
        'the client certificate does not chain to the trusted CA bundle',
      );
    }
    if (!issuer.ca) throw new VerificationError('HW_CERT_UNTRUSTED', `issuer ${oneLine(issuer.subject)} is not a CA`);
    path.push(issuer);
    current = issuer;
  }
  try {
    checkConstraints(path);
  } catch (err) {
    // A name whose text does not decode cannot be compared with a constraint: refused, not a 500.
    if (err instanceof DerError) throw new VerificationError('HW_CERT_INVALID', `a name in the chain: ${err.message}`);
    throw err;
  }
  return path;
}

function untrusted(detail: string): never {
  throw new VerificationError('HW_CERT_UNTRUSTED', detail);
}

/**
 * The limits each certificate of the path (leaf first, anchor last) sets, applied as OpenSSL's
 * `verify -purpose sslclient` applies them (crypto/x509/x509_vfy.c), and stricter where noted:
 * - no certificate has a critical extension that is not understood (OpenSSL also accepts critical
 *   policy constraints and mappings, which it does not enforce by default; here they refuse);
 * - every issuer, the anchor included, is a CA by basic constraints, may sign certificates when it
 *   has a key usage, and has either no extended key usage or one that names clientAuth;
 * - a CA's path length counts the CAs below it, self-issued ones excepted;
 * - each certificate's names fall within the name constraints of every CA above it.
 * The anchor's own limits count: a CA bundle entry carrying them expects them to be obeyed.
 */
function checkConstraints(path: readonly X509Certificate[]): void {
  const facts = path.map((c, i) => factsOf(c, i === 0 ? 'the client certificate' : `CA ${oneLine(c.subject)}`));
  const nameOf = (i: number) => (i === 0 ? 'the client certificate' : `CA ${oneLine(path[i]!.subject)}`);
  for (const [i, f] of facts.entries()) {
    if (f.unhandledCritical.length > 0) {
      untrusted(`${nameOf(i)} has a critical extension that is not understood (${f.unhandledCritical.join(', ')})`);
    }
    if (i === 0) continue;
    if (!f.basicConstraints?.ca) untrusted(`${nameOf(i)} is not a CA by its basic constraints`);
    if (f.keyUsage && !f.keyUsage[KEY_CERT_SIGN]) untrusted(`${nameOf(i)} has a key usage without keyCertSign`);
    if (f.extendedKeyUsage && !f.extendedKeyUsage.includes(OID.clientAuth)) {
      untrusted(`${nameOf(i)} may not issue client certificates: its extended key usage does not include clientAuth`);
    }
    const unsupported = f.nameConstraints && unsupportedConstraints(f.nameConstraints);
    if (unsupported) untrusted(`${nameOf(i)} ${unsupported}, which this verifier cannot check`);
  }
  let below = 0;
  for (let i = 1; i < path.length; i++) {
    const pathLen = facts[i]!.basicConstraints?.pathLen;
    if (pathLen !== undefined && below > pathLen) {
      untrusted(`${nameOf(i)} allows ${pathLen} CA certificate(s) below it; the chain has ${below}`);
    }
    if (!sameName(facts[i]!.subject, facts[i]!.issuer)) below++;
  }
  for (let i = path.length - 1; i >= 0; i--) {
    // A self-issued CA (a key rollover certificate) is exempt, as in RFC 5280 §6.1.4; the leaf never is.
    if (i !== 0 && sameName(facts[i]!.subject, facts[i]!.issuer)) continue;
    for (let j = path.length - 1; j > i; j--) {
      const nc = facts[j]!.nameConstraints;
      const violation = nc && nameConstraintViolation(facts[i]!, nc, i === 0);
      if (violation) untrusted(`${nameOf(i)}: ${violation} of ${nameOf(j)}`);
    }
  }
}

/** The other half: every certificate of the path valid at `nowMs`, and the depth within `maxDepth`. */
export function checkPath(path: readonly X509Certificate[], maxDepth: number, nowMs: number): void {
  for (const [i, cert] of path.entries()) {
    // The name is built only for the error: formatting a subject on every request showed in profiles.
    if (!withinValidity(cert, nowMs)) {
      checkValidity(cert, nowMs, i === 0 ? 'the client certificate' : `CA ${oneLine(cert.subject)}`);
    }
  }
  const last = path.at(-1)!;
  const intermediates = path.length - 1 - (path.length > 1 && isSelfIssued(last) ? 1 : 0);
  if (intermediates > maxDepth) {
    throw new VerificationError(
      'HW_CERT_UNTRUSTED',
      `the chain has ${intermediates} intermediate certificate(s); at most ${maxDepth} allowed`,
    );
  }
}

function findIssuer(cert: X509Certificate, pool: readonly X509Certificate[]): X509Certificate | undefined {
  return pool.find(
    (c) => !c.raw.equals(cert.raw) && cert.checkIssued(c) && cert.verify(publicKeyOf(c, 'CA certificate')),
  );
}

function oneLine(dn: string): string {
  return JSON.stringify(dn.replace(/\n/g, ', '));
}
