import type { X509Certificate } from 'node:crypto';
import { DerError, decodeString, rawName, readTlv, type Tlv, tbsFields } from './der.ts';
import { HookwardenError } from './errors.ts';

/**
 * Distinguished names (RFC 4514), parsed and printed with their escapes honoured, and read from a
 * certificate's DER rather than from any string rendering of it. A DN matched with a regular
 * expression is how `OU=x\,CN=admin` turns into "CN=admin": everything here works on structure.
 */

/** One RDN; several entries form a multi-valued RDN (`+`). */
export type Rdn = { type: string; value: string }[];

/** Every failure here is one of these; `code` is HW_DN_INVALID or HW_DN_DER_INVALID. */
export class DnError extends HookwardenError {
  override readonly name = 'DnError';
}

function invalid(message: string): DnError {
  return new DnError('HW_DN_INVALID', message);
}

function derInvalid(message: string): DnError {
  return new DnError('HW_DN_DER_INVALID', message);
}

// OID, canonical short name (what OpenSSL prints in RFC 2253 mode), then accepted aliases.
const ATTRIBUTES: readonly (readonly string[])[] = [
  ['2.5.4.3', 'CN', 'commonName'],
  ['2.5.4.4', 'SN', 'surname'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C', 'countryName'],
  ['2.5.4.7', 'L', 'localityName'],
  ['2.5.4.8', 'ST', 'stateOrProvinceName', 'S'],
  ['2.5.4.9', 'STREET', 'streetAddress'],
  ['2.5.4.10', 'O', 'organizationName'],
  ['2.5.4.11', 'OU', 'organizationalUnitName'],
  ['2.5.4.12', 'title'],
  ['2.5.4.15', 'businessCategory'],
  ['2.5.4.17', 'postalCode'],
  ['2.5.4.42', 'GN', 'givenName'],
  ['2.5.4.43', 'initials'],
  ['2.5.4.44', 'generationQualifier'],
  ['2.5.4.46', 'dnQualifier'],
  ['2.5.4.65', 'pseudonym'],
  ['2.5.4.97', 'organizationIdentifier'],
  ['0.9.2342.19200300.100.1.1', 'UID', 'userId'],
  ['0.9.2342.19200300.100.1.25', 'DC', 'domainComponent'],
  ['1.2.840.113549.1.9.1', 'emailAddress', 'E', 'email'],
];

const NAME_BY_OID = new Map<string, string>();
const OID_BY_NAME = new Map<string, string>();
for (const [oid, ...names] of ATTRIBUTES) {
  NAME_BY_OID.set(oid!, names[0]!);
  for (const name of names) OID_BY_NAME.set(name.toLowerCase(), oid!);
}

// The common spellings (as listed, lower case, upper case, the dotted OID) answered by one lookup:
// the regular expressions below measured about a third of parseDn on typical DNs.
const SPELLINGS = new Map<string, { oid: string; name: string }>();
for (const [oid, ...names] of ATTRIBUTES) {
  const entry = { oid: oid!, name: names[0]! };
  SPELLINGS.set(oid!, entry);
  for (const name of names) for (const s of [name, name.toLowerCase(), name.toUpperCase()]) SPELLINGS.set(s, entry);
}

const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;
const NUMERICOID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/;

/** The dotted OID of a known attribute type (any case, short name, long name or `OID.` form), if known. */
export function attributeOid(type: string): string | undefined {
  const known = SPELLINGS.get(type);
  if (known) return known.oid;
  const t = type.replace(/^oid\./i, '');
  if (NUMERICOID.test(t)) return t;
  return OID_BY_NAME.get(t.toLowerCase());
}

/** The name a type is printed with: the short name when known, else the dotted OID or descriptor. */
export function canonicalType(type: string): string {
  const known = SPELLINGS.get(type);
  if (known) return known.name;
  const t = type.replace(/^oid\./i, '');
  if (NUMERICOID.test(t)) return NAME_BY_OID.get(t) ?? t;
  if (!DESCR.test(t))
    throw invalid(`${JSON.stringify(type)} is not an attribute type: use a name like CN or a dotted OID`);
  const oid = OID_BY_NAME.get(t.toLowerCase());
  return oid ? NAME_BY_OID.get(oid)! : t;
}

// ---------------------------------------------------------------------------------------------
// RFC 4514 string form

// Characters that end a plain run inside a value.
const STOP = new Set([',', '+', '\\', '"', '<', '>', ';', '\0']);

function hexValue(c: string | undefined): number {
  if (c === undefined) return -1;
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}
// Characters RFC 4514 requires escaped anywhere in a value; unescaped they are errors, not guesses.
const SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';']);

// Keeps a leading U+FEFF: formatDn escapes it, and the escape must read back as the character.
const escapedUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses an RFC 4514 string into RDNs, in the order written. Lenient only where no ambiguity is
 * possible: spaces around `,` `+` `=` (as in `CN=a, O=b`) are ignored, and type names are
 * canonicalised (`cn`, `commonName`, `2.5.4.3` → `CN`). `#hex` values holding a DER string are
 * decoded to that string; other `#hex` values are kept as `#` + lowercase hex.
 */
function decodeEscaped(bytes: number[]): string {
  try {
    return escapedUtf8.decode(Uint8Array.from(bytes));
  } catch {
    throw invalid('escaped bytes in the DN are not valid UTF-8');
  }
}

export function parseDn(input: string): Rdn[] {
  if (typeof input !== 'string') throw invalid('a distinguished name must be a string');
  const s = input;
  let i = 0;
  // No inner helper functions: under tsx (how this package runs from source) every named closure
  // is re-created and renamed on each call, which measured a third of parseDn.
  const rdns: Rdn[] = [];
  while (s[i] === ' ') i++;
  if (i === s.length) return rdns;
  let rdn: Rdn = [];
  for (;;) {
    // attribute type
    while (s[i] === ' ') i++;
    const typeStart = i;
    while (i < s.length && s[i] !== '=' && s[i] !== ' ' && s[i] !== ',' && s[i] !== '+') i++;
    const rawType = s.slice(typeStart, i);
    while (s[i] === ' ') i++;
    if (rawType === '') throw invalid(`expected an attribute type at position ${typeStart} of the DN`);
    if (s[i] !== '=') throw invalid(`expected '=' after ${JSON.stringify(rawType)} at position ${i} of the DN`);
    const type = canonicalType(rawType);
    i++;
    while (s[i] === ' ') i++;
    // attribute value
    let value: string;
    let end = i + 1;
    while (s[end] === ' ') end++;
    if (s[i] === '#' && (end === s.length || s[end] === ',' || s[end] === '+')) {
      // A value that is just '#': OpenSSL prints it unescaped (its last-character rule overrides the
      // first-character one), and with no hex after it it can mean nothing else.
      value = '#';
      i = end;
    } else if (s[i] === '#') {
      const start = ++i;
      while (i < s.length && /[0-9A-Fa-f]/.test(s[i]!)) i++;
      const hex = s.slice(start, i);
      if (hex.length === 0 || hex.length % 2 !== 0)
        throw invalid(`'#' must start a hex string at position ${start - 1}`);
      value = valueFromBer(Buffer.from(hex, 'hex'));
      while (s[i] === ' ') i++;
    } else {
      // Plain runs are copied as they are; only hex-escaped bytes go through a UTF-8 decoder.
      value = '';
      let keep = 0; // value.length up to the last character that is not an unescaped space
      let pending: number[] = [];
      while (i < s.length && s[i] !== ',' && s[i] !== '+') {
        const c = s[i]!;
        if (c === '\\') {
          const next = s[i + 1];
          if (next === undefined) throw invalid('the DN ends with a lone backslash');
          const hi = hexValue(next);
          const lo = hexValue(s[i + 2]);
          if (hi >= 0 && lo >= 0) {
            pending.push(hi * 16 + lo);
            i += 3;
            continue;
          }
          if (!(SPECIAL.has(next) || next === ' ' || next === '#' || next === '=')) {
            throw invalid(`'\\${next}' at position ${i} is not an escape: escape only ,+"\\<>;#= space or hex pairs`);
          }
          if (pending.length > 0) {
            value += decodeEscaped(pending);
            pending = [];
            keep = value.length;
          }
          value += next;
          keep = value.length;
          i += 2;
          continue;
        }
        if (pending.length > 0) {
          value += decodeEscaped(pending);
          pending = [];
          keep = value.length;
        }
        if (c === '"' || c === '<' || c === '>' || c === ';' || c === '\0') {
          throw invalid(`'${c === '\0' ? '\\0' : c}' at position ${i} must be escaped with a backslash`);
        }
        let j = i + 1;
        while (j < s.length && !STOP.has(s[j]!)) j++;
        const run = s.slice(i, j);
        value += run;
        let t = run.length;
        while (t > 0 && run[t - 1] === ' ') t--;
        if (t > 0) keep = value.length - (run.length - t);
        i = j;
      }
      if (pending.length > 0) {
        value += decodeEscaped(pending);
        pending = [];
        keep = value.length;
      }
      value = value.slice(0, keep);
    }
    rdn.push({ type, value });
    if (i === s.length) break;
    const sep = s[i];
    i++;
    if (sep === ',') {
      rdns.push(rdn);
      rdn = [];
    } else if (sep !== '+') {
      throw invalid(`unexpected '${sep}' at position ${i - 1} of the DN`);
    }
    while (s[i] === ' ') i++;
    if (i === s.length) throw invalid(`the DN ends with '${sep}' and no attribute after it`);
  }
  rdns.push(rdn);
  return rdns;
}

/**
 * Characters a terminal or a text renderer acts on instead of showing: C0 controls and DEL, C1
 * controls (U+009B is a one-character CSI), and the invisible format characters that reorder or
 * hide text (bidi marks, embeddings and isolates, zero-width characters, line separators, BOM).
 * A subject from a certificate is attacker-chosen text; printed raw, these repaint a report.
 */
const NON_PRINTABLE = /^[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]$/;

const utf8Encoder = new TextEncoder();

/** `\XX` for each UTF-8 byte (RFC 4514 §2.4), which parseDn decodes back to the same character. */
function hexEscape(c: string): string {
  return Array.from(utf8Encoder.encode(c), (b) => `\\${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

function escapeValue(value: string): string {
  let out = '';
  const chars = Array.from(value);
  chars.forEach((c, index) => {
    if (SPECIAL.has(c)) out += `\\${c}`;
    else if (NON_PRINTABLE.test(c)) out += hexEscape(c);
    else if (index === 0 && (c === '#' || c === ' ')) out += `\\${c}`;
    else if (index === chars.length - 1 && c === ' ') out += '\\ ';
    else out += c;
  });
  return out;
}

/** Prints RDNs as an RFC 4514 string (UTF-8 kept as is; specials, controls and invisible format characters escaped). */
export function formatDn(rdns: Rdn[]): string {
  return rdns
    .map((rdn) => {
      if (rdn.length === 0) throw invalid('an RDN must hold at least one attribute');
      return rdn.map(({ type, value }) => `${canonicalType(type)}=${escapeValue(value)}`).join('+');
    })
    .join(',');
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * The comparison form of a value: ASCII letters lower-cased, every other character kept exactly.
 * No trimming beyond what RFC 4514 syntax strips (unescaped spaces at either end of a string
 * value), no whitespace folding and no Unicode normalisation or case mapping: each of those made
 * another certificate's name equal to the expected one — a leading U+FEFF or U+3000 trimmed, a tab
 * or NBSP folded to a space, the Kelvin sign canonically K, dotless ı upper-cased to I.
 */
function fold(value: string): string {
  return ASCII.test(value) ? value.toLowerCase() : value.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

function normalise(dn: string | Rdn[]): string[][] {
  const rdns = typeof dn === 'string' ? parseDn(dn) : dn;
  return rdns.map((rdn) =>
    rdn.map(({ type, value }) => `${(attributeOid(type) ?? canonicalType(type)).toLowerCase()}=${fold(value)}`).sort(),
  );
}

/**
 * Structural equality: type names case-insensitive and by OID, values equal but for the case of
 * ASCII letters (every other character compared exactly, escapes decoded first), RDN order
 * significant, entries of a multi-valued RDN in any order.
 * Throws HW_DN_INVALID when a string argument is not a DN.
 */
export function dnEquals(a: string | Rdn[], b: string | Rdn[]): boolean {
  const x = normalise(a);
  const y = normalise(b);
  return (
    x.length === y.length && x.every((rdn, i) => rdn.length === y[i]!.length && rdn.every((e, j) => e === y[i]![j]))
  );
}

/** All values of one attribute type (any spelling of it), in order. */
export function getAttribute(rdns: Rdn[], type: string): string[] {
  const wanted = attributeOid(type) ?? canonicalType(type).toLowerCase();
  const out: string[] = [];
  for (const rdn of rdns) {
    for (const entry of rdn) {
      const key = attributeOid(entry.type) ?? canonicalType(entry.type).toLowerCase();
      if (key === wanted) out.push(entry.value);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DER

function decodeText(tag: number, v: Uint8Array): string | undefined {
  try {
    return decodeString(tag, v);
  } catch (err) {
    throw derInvalid((err as Error).message);
  }
}

/** A value given as BER (`#hex` in a DN string, or the DER of a certificate). */
function valueFromBer(tlvBytes: Uint8Array): string {
  let tlv: Tlv;
  try {
    tlv = readTlv(tlvBytes, 0, tlvBytes.length);
  } catch (err) {
    throw invalid(`a '#hex' value must be one BER element: ${(err as Error).message}`);
  }
  if (tlv.end !== tlvBytes.length) throw invalid("a '#hex' value must be exactly one BER element");
  let str: string | undefined;
  try {
    str = decodeString(tlv.tag, tlvBytes.subarray(tlv.valueStart, tlv.end));
  } catch (err) {
    throw invalid(`'#hex' value: ${(err as Error).message}`);
  }
  return str ?? `#${Buffer.from(tlvBytes).toString('hex')}`;
}

function readName(der: Uint8Array, tlv: Tlv): Rdn[] {
  return rawName(der, tlv)
    .map((rdn) =>
      rdn
        .map(({ oid, tag, value, raw }): Rdn[number] => ({
          type: NAME_BY_OID.get(oid) ?? oid,
          value: decodeText(tag, value) ?? `#${Buffer.from(raw).toString('hex')}`,
        }))
        // OpenSSL (and so nginx and HAProxy) prints the members of a multi-valued RDN reversed too.
        .reverse(),
    )
    .reverse(); // DER holds the most significant RDN first; RFC 4514 writes it last.
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HookwardenError) throw err;
    if (err instanceof DerError) throw derInvalid(err.message);
    throw derInvalid(`unreadable DER: ${(err as Error).message}`);
  }
}

/** Decodes the DER of an X.501 Name into RDNs in RFC 4514 order. Throws HW_DN_DER_INVALID. */
export function dnFromDer(der: Uint8Array): Rdn[] {
  return guard(() => {
    const tlv = readTlv(der, 0, der.length);
    if (tlv.end !== der.length) throw derInvalid('extra data after the Name');
    return readName(der, tlv);
  });
}

/** Issuer and subject of a DER certificate, in RFC 4514 order. Throws HW_DN_DER_INVALID. */
export function namesFromCertificateDer(der: Uint8Array): { issuer: Rdn[]; subject: Rdn[] } {
  return guard(() => {
    const { issuer, subject } = tbsFields(der);
    return { issuer: readName(der, issuer), subject: readName(der, subject) };
  });
}

/** The subject DN of a certificate, read from its DER (never from Node's string rendering). */
export function dnFromX509(cert: X509Certificate): Rdn[] {
  return namesFromCertificateDer(cert.raw).subject;
}

/** The issuer DN of a certificate, read from its DER. */
export function dnIssuerFromX509(cert: X509Certificate): Rdn[] {
  return namesFromCertificateDer(cert.raw).issuer;
}
