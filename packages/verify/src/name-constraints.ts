/**
 * X.509 name constraints (RFC 5280 §4.2.1.10), applied as OpenSSL applies them to a client
 * certificate's chain (crypto/x509/v3_ncons.c), so that a chain this package accepts is one
 * `openssl verify -purpose sslclient` accepts: the subject (as a directoryName, and each
 * emailAddress attribute as an rfc822Name), every subject alternative name, and — for the leaf
 * without DNS names — each common name that looks like a host name, checked against the permitted
 * and excluded subtrees of every CA above the certificate.
 *
 * Constraint types checked: dNSName, rfc822Name, uniformResourceIdentifier, directoryName and
 * iPAddress. A CA constraining any other type, or using the minimum / maximum fields, refuses the
 * chain: a limit that is not understood is not a limit that can be ignored.
 */
import { DerError, decodeString, type RawAttribute } from './der.ts';
import { type CertificateFacts, type GeneralName, type GeneralSubtree, GN, OID } from './extensions.ts';

/** OpenSSL's bound on names × constraints per check: a hostile chain cannot make it quadratic. */
const MAX_CHECKS = 1 << 20;
const CHECKED_TYPES = new Set<number>([
  GN.rfc822Name,
  GN.dNSName,
  GN.directoryName,
  GN.uniformResourceIdentifier,
  GN.iPAddress,
]);

type Constraints = NonNullable<CertificateFacts['nameConstraints']>;

/** Why a CA's constraints cannot be applied here, or undefined when they can. */
export function unsupportedConstraints(nc: Constraints): string | undefined {
  for (const subtree of [...nc.permitted, ...nc.excluded]) {
    if (!CHECKED_TYPES.has(subtree.base.type)) return `constrains ${typeName(subtree.base.type)} names`;
    if (subtree.minMax) return 'uses the minimum or maximum field of a subtree';
  }
  return undefined;
}

/** A name being checked, with the GeneralName type it counts as. */
interface Candidate {
  type: number;
  name: GeneralName;
  what: string;
}

/**
 * The first name of `cert` that `nc` does not allow, described, or undefined when all are allowed.
 * `leaf` adds the common-name check OpenSSL applies to the end-entity certificate.
 */
export function nameConstraintViolation(cert: CertificateFacts, nc: Constraints, leaf: boolean): string | undefined {
  const candidates: Candidate[] = [];
  if (cert.subject.length > 0) {
    candidates.push({
      type: GN.directoryName,
      name: { type: GN.directoryName, value: new Uint8Array(), name: cert.subject },
      what: 'the subject',
    });
    for (const attr of cert.subject.flat()) {
      if (attr.oid !== OID.emailAddress) continue;
      if (attr.tag !== 0x16) return 'the subject holds an emailAddress that is not an IA5String';
      candidates.push({
        type: GN.rfc822Name,
        name: { type: GN.rfc822Name, value: attr.value },
        what: 'the subject emailAddress',
      });
    }
  }
  for (const san of cert.subjectAltNames) {
    // RFC 8398: an SmtpUTF8Mailbox otherName is an email address, which only OpenSSL's EAI rules match.
    const type = san.type === GN.otherName && san.otherNameType === OID.smtpUtf8Mailbox ? GN.rfc822Name : san.type;
    candidates.push({ type, name: san, what: `the ${typeName(san.type)} name ${printable(san)}` });
  }
  if (leaf && !cert.subjectAltNames.some((n) => n.type === GN.dNSName)) {
    for (const attr of cert.subject.flat()) {
      if (attr.oid !== OID.commonName) continue;
      const host = hostLikeCommonName(attr);
      if (typeof host === 'object') return host.problem;
      if (host !== undefined) {
        const value = Buffer.from(host, 'latin1');
        candidates.push({
          type: GN.dNSName,
          name: { type: GN.dNSName, value },
          what: `the common name ${JSON.stringify(host)}`,
        });
      }
    }
  }
  if (candidates.length * (nc.permitted.length + nc.excluded.length) > MAX_CHECKS) return 'has too many names to check';
  for (const c of candidates) {
    const problem = checkOne(c, nc);
    if (problem) return `${c.what} ${problem}`;
  }
  return undefined;
}

function checkOne(c: Candidate, nc: Constraints): string | undefined {
  const permitted = nc.permitted.filter((s) => s.base.type === c.type);
  if (permitted.length > 0) {
    let allowed = false;
    for (const s of permitted) {
      const m = matches(c, s);
      if (typeof m === 'string') return m;
      if (m) {
        allowed = true;
        break;
      }
    }
    if (!allowed) return 'is outside the permitted subtrees';
  }
  for (const s of nc.excluded) {
    if (s.base.type !== c.type) continue;
    const m = matches(c, s);
    if (typeof m === 'string') return m;
    if (m) return 'is in an excluded subtree';
  }
  return undefined;
}

/** true / false, or a string saying why the name cannot be compared (which refuses it, as OpenSSL does). */
function matches(c: Candidate, subtree: GeneralSubtree): boolean | string {
  const base = subtree.base;
  if (c.type === GN.rfc822Name && c.name.type === GN.otherName) {
    return 'is an internationalised email address, which email constraints here cannot check';
  }
  switch (c.type) {
    case GN.dNSName:
      return dnsMatches(ia5(c.name.value), ia5(base.value));
    case GN.rfc822Name:
      return emailMatches(ia5(c.name.value), ia5(base.value));
    case GN.uniformResourceIdentifier:
      return uriMatches(ia5(c.name.value), ia5(base.value));
    case GN.iPAddress:
      return ipMatches(c.name.value, base.value);
    case GN.directoryName:
      return directoryMatches(c.name.name!, base.name!);
    default:
      return false;
  }
}

function ia5(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

function lowerAscii(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

function equalsIgnoringAsciiCase(a: string, b: string): boolean {
  return a.length === b.length && lowerAscii(a) === lowerAscii(b);
}

/** nc_dns: the base is a suffix at a label boundary; an empty base matches every name. */
function dnsMatches(name: string, base: string): boolean {
  if (base.length === 0) return true;
  if (name.length < base.length) return false;
  const tail = name.slice(name.length - base.length);
  if (name.length > base.length && !base.startsWith('.') && name[name.length - base.length - 1] !== '.') return false;
  return equalsIgnoringAsciiCase(tail, base);
}

/** nc_email: a whole mailbox (local part compared exactly), a host, or `.domain` for any host under it. */
function emailMatches(email: string, base: string): boolean | string {
  const at = email.lastIndexOf('@');
  if (at < 0) return 'is not an email address';
  const baseAt = base.lastIndexOf('@');
  if (baseAt < 0 && base.startsWith('.')) {
    return email.length > base.length && equalsIgnoringAsciiCase(email.slice(email.length - base.length), base);
  }
  if (baseAt > 0) {
    const local = base.slice(0, baseAt);
    if (local.includes('\0') || email.slice(0, at).includes('\0')) return 'holds a NUL byte';
    if (local !== email.slice(0, at)) return false;
  }
  return equalsIgnoringAsciiCase(email.slice(at + 1), base.slice(baseAt + 1));
}

/** nc_uri: the host between `scheme://` and the first `:` after it (else the first `/`), matched like nc_dns without the label rule. */
function uriMatches(uri: string, base: string): boolean | string {
  const colon = uri.indexOf(':');
  if (colon < 0 || uri.length - colon < 3 || uri[colon + 1] !== '/' || uri[colon + 2] !== '/') {
    return 'is not a URI with an authority';
  }
  const start = colon + 3;
  let end = uri.indexOf(':', start);
  if (end < 0) end = uri.indexOf('/', start);
  const host = uri.slice(start, end < 0 ? uri.length : end);
  if (host.length === 0) return 'has no host';
  if (base.startsWith('.')) {
    return host.length > base.length && equalsIgnoringAsciiCase(host.slice(host.length - base.length), base);
  }
  return equalsIgnoringAsciiCase(host, base);
}

/** nc_ip: address and base/mask of one family. */
function ipMatches(ip: Uint8Array, base: Uint8Array): boolean | string {
  if (ip.length !== 4 && ip.length !== 16) return 'is not an IPv4 or IPv6 address';
  if (base.length !== 8 && base.length !== 32) return 'is constrained by a malformed address range';
  if (ip.length * 2 !== base.length) return false;
  for (let i = 0; i < ip.length; i++) {
    const mask = base[ip.length + i]!;
    if ((ip[i]! & mask) !== (base[i]! & mask)) return false;
  }
  return true;
}

/** nc_dn: the base's RDNs, canonically compared, are the first RDNs of the name. */
function directoryMatches(name: RawAttribute[][], base: RawAttribute[][]): boolean {
  if (base.length > name.length) return false;
  const n = canonicalName(name);
  return canonicalName(base).every((rdn, i) => rdn === n[i]);
}

// The string types OpenSSL canonicalises (ASN1_MASK_CANON); others compare as their exact bytes.
const CANON_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1a, 0x1c, 0x1e]);

/**
 * OpenSSL's canonical form of a Name (x509_name_canon), one string per RDN: each value as UTF-8 with
 * ASCII white space trimmed and folded to one space and ASCII letters lower-cased, entries of a
 * multi-valued RDN sorted. Used for name constraints and to tell self-issued certificates, where
 * matching OpenSSL's rule is the point.
 */
export function canonicalName(rdns: RawAttribute[][]): string[] {
  return rdns.map((rdn) => JSON.stringify(rdn.map(canonicalEntry).sort()));
}

function canonicalEntry(a: RawAttribute): string {
  if (!CANON_TAGS.has(a.tag)) return JSON.stringify([a.oid, a.tag, Buffer.from(a.value).toString('hex')]);
  const text = decodeString(a.tag, a.value)!;
  const canon = lowerAscii(text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '').replace(/[ \t\n\v\f\r]+/g, ' '));
  return JSON.stringify([a.oid, 'utf8', canon]);
}

export function sameName(a: RawAttribute[][], b: RawAttribute[][]): boolean {
  if (a.length !== b.length) return false;
  const x = canonicalName(a);
  const y = canonicalName(b);
  return x.every((rdn, i) => rdn === y[i]);
}

/**
 * cn2dnsid: the common name as a host name when it looks like one (LDH and `_`, at least two labels,
 * no `-` or `.` at either end or next to a dot); undefined when it does not; a problem when it
 * cannot be read or holds a NUL.
 */
function hostLikeCommonName(attr: RawAttribute): string | undefined | { problem: string } {
  let text: string | undefined;
  try {
    text = decodeString(attr.tag, attr.value);
  } catch (err) {
    if (err instanceof DerError) return { problem: 'the subject common name is not valid text' };
    throw err;
  }
  if (text === undefined) return { problem: 'the subject common name is not a string' };
  text = text.replace(/\0+$/, '');
  if (text.includes('\0')) return { problem: 'the subject common name holds a NUL' };
  let hostLike = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/[A-Za-z0-9_]/.test(c)) continue;
    if (i > 0 && i < text.length - 1) {
      if (c === '-') continue;
      if (c === '.' && text[i + 1] !== '.' && text[i - 1] !== '-' && text[i + 1] !== '-') {
        hostLike = true;
        continue;
      }
    }
    return undefined;
  }
  return hostLike ? text : undefined;
}

function typeName(type: number): string {
  return Object.entries(GN).find(([, t]) => t === type)?.[0] ?? `type ${type}`;
}

function printable(name: GeneralName): string {
  if (name.type === GN.iPAddress) return Array.from(name.value).join('.');
  if (name.type === GN.directoryName || name.type === GN.otherName) return '';
  return JSON.stringify(ia5(name.value));
}
