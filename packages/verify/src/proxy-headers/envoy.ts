/**
 * Envoy `x-forwarded-client-cert`: `Key=Value;Key=Value,Key=Value...`, one element per hop, keys
 * case-insensitive. Envoy's `mutateXfccRequestHeader` writes `By=` (repeatable), `Hash=`, `URI=`
 * (repeatable) and `DNS=` (repeatable) unquoted and as they are in the certificates, and `Cert="..."`,
 * `Chain="..."` (URL-encoded PEM) and `Subject="..."` (OpenSSL's RFC 2253 text, whose own escapes
 * cover `"` and `\`) quoted. Raw SAN text means a tenant certificate can write `,` and `;` into the
 * header: a URI SAN `spiffe://t/a,Hash=<platform's>;Cert=<platform's>` reads as a second element.
 * So the number of elements is part of the policy (`xfccElements`, default 1: the edge proxy uses
 * SANITIZE_SET and is the last Envoy), the certificate's element is the first one (the edge's; each
 * Envoy after it appends one), and anything Envoy would not have written is refused.
 */
import { VerificationError } from '../errors.ts';
import { escapedPemCertificates, hexFingerprint, one, type ProxyHeaderParser } from './facts.ts';

const XFCC = 'x-forwarded-client-cert';
export const MAX_XFCC_ELEMENTS = 32;
const MAX_PAIRS = 64;

export type XfccElement = { key: string; value: string; quoted: boolean }[];

/** Each key Envoy writes: whether it quotes the value, and whether it may repeat. */
const ENVOY_KEYS: Readonly<Record<string, { quoted: boolean; repeats: boolean }>> = {
  by: { quoted: false, repeats: true },
  hash: { quoted: false, repeats: false },
  cert: { quoted: true, repeats: false },
  chain: { quoted: true, repeats: false },
  subject: { quoted: true, repeats: false },
  uri: { quoted: false, repeats: true },
  dns: { quoted: false, repeats: true },
};

// Module-level helpers rather than closures in the parsers: under tsx every named closure is renamed
// on creation, a cost paid per request.
function bad(why: string): VerificationError {
  return new VerificationError('HW_PROXY_HEADER_INVALID', `${XFCC}: ${why}`);
}

/** The value of `key` in an element (checked by envoyShaped: it appears at most once). */
function pairValue(element: XfccElement, key: string): string | undefined {
  return element.find((p) => p.key === key)?.value || undefined;
}

/** Refuses an element Envoy would not have written: an unknown key, a repeat, other quoting. */
function envoyShaped(element: XfccElement): void {
  const seen = new Set<string>();
  for (const { key, quoted } of element) {
    const known = ENVOY_KEYS[key];
    if (!known) throw bad(`${key} is not a key Envoy writes`);
    if (!known.repeats && seen.has(key)) throw bad(`repeats ${key}`);
    if (known.quoted !== quoted) throw bad(`${key} is ${quoted ? '' : 'not '}quoted, unlike what Envoy writes`);
    seen.add(key);
  }
}

/** Parses a whole XFCC value. Throws only VerificationError (HW_PROXY_HEADER_INVALID). */
export function parseXfcc(value: string): XfccElement[] {
  const elements: XfccElement[] = [];
  let pairs: XfccElement = [];
  let i = 0;
  for (;;) {
    // key
    const eq = value.indexOf('=', i);
    if (eq < 0) throw bad('a pair has no "="');
    const key = value.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z]+$/.test(key)) throw bad('a key is not a word');
    i = eq + 1;
    let v = '';
    const quoted = value[i] === '"';
    if (quoted) {
      i++;
      let closed = false;
      while (i < value.length) {
        const c = value[i]!;
        // A backslash and the character after it are one pair, kept as written: in Subject they are
        // RFC 2253 escapes (`\"`, `\\`, `\,`), which the DN parser decodes. Only an unpaired quote
        // closes the value, so `\\"` is an escaped backslash followed by the closing quote.
        if (c === '\\' && i + 1 < value.length) {
          v += value.slice(i, i + 2);
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          v += c;
          i++;
        }
      }
      if (!closed) throw bad('unterminated quoted value');
    } else {
      let j = i;
      while (j < value.length && value[j] !== ';' && value[j] !== ',') j++;
      v = value.slice(i, j).trim();
      if (v.includes('"') || v.includes('=')) throw bad('an unquoted value holds a quote or "="');
      i = j;
    }
    pairs.push({ key, value: v, quoted });
    if (pairs.length > MAX_PAIRS) throw bad('too many pairs');
    while (value[i] === ' ') i++;
    if (i >= value.length) {
      elements.push(pairs);
      return elements;
    }
    const sep = value[i];
    i++;
    if (sep === ',') {
      elements.push(pairs);
      pairs = [];
      if (elements.length >= MAX_XFCC_ELEMENTS) throw bad('too many elements');
    } else if (sep !== ';') throw bad('expected ";" or ","');
    while (value[i] === ' ') i++;
  }
}

/** The Envoy parser for a header of exactly `elements` elements (1 to MAX_XFCC_ELEMENTS). */
export function envoyParser(elements: number): ProxyHeaderParser {
  return {
    headers: [XFCC],
    parse(headers) {
      const value = one(headers, XFCC);
      if (value === undefined) return undefined;
      const parsed = parseXfcc(value);
      if (parsed.length !== elements) {
        throw bad(
          `holds ${parsed.length} element(s) where ${elements} are expected (xfccElements): a certificate's names ` +
            'may have split it, or the proxies are not set up as the policy says',
        );
      }
      for (const e of parsed) envoyShaped(e);
      return elementFacts(parsed[0]!);
    },
  };
}

function elementFacts(element: XfccElement) {
  const sha256 = hexFingerprint(pairValue(element, 'hash'), 32, `${XFCC} Hash`);
  const certText = pairValue(element, 'cert');
  const chainText = pairValue(element, 'chain');
  const subject = pairValue(element, 'subject');
  const cert = certText === undefined ? undefined : escapedPemCertificates(certText, `${XFCC} Cert`)[0];
  const chain = chainText === undefined ? [] : escapedPemCertificates(chainText, `${XFCC} Chain`);
  if (cert === undefined && sha256 === undefined && subject === undefined) return undefined;
  const dnsNames = element.filter((p) => p.key === 'dns').map((p) => p.value.toLowerCase());
  return {
    ...(subject === undefined ? {} : { subject }),
    fingerprints: sha256 === undefined ? {} : { sha256Hex: sha256 },
    ...(cert === undefined ? {} : { cert }),
    // Envoy's Chain starts with the leaf.
    chain: cert !== undefined && chain[0]?.raw.equals(cert.raw) ? chain.slice(1) : chain,
    dnsNames,
  };
}

/** The default: one element, set by an edge Envoy with SANITIZE_SET. */
export const envoy: ProxyHeaderParser = envoyParser(1);
