/**
 * Envoy `x-forwarded-client-cert`: `Key=Value;Key=Value,Key=Value...`, one element per hop, keys
 * case-insensitive, values holding `,;=` double-quoted with `\"` escapes (the only escape). Only the last element is
 * used: it is the one our own edge proxy appended; earlier ones came from further away.
 */
import { VerificationError } from '../errors.ts';
import { escapedPemCertificates, hexFingerprint, one, type ProxyHeaderParser } from './facts.ts';

const XFCC = 'x-forwarded-client-cert';
const MAX_ELEMENTS = 32;
const MAX_PAIRS = 64;

export type XfccElement = { key: string; value: string }[];

// Module-level helpers rather than closures in the parsers: under tsx every named closure is renamed
// on creation, a cost paid per request.
function bad(why: string): VerificationError {
  return new VerificationError('HW_PROXY_HEADER_INVALID', `${XFCC}: ${why}`);
}

/** The one value of `key` in an element; a repeated key is refused. */
function pairValue(element: XfccElement, key: string): string | undefined {
  const found = element.filter((p) => p.key === key);
  if (found.length > 1) throw new VerificationError('HW_PROXY_HEADER_INVALID', `${XFCC} repeats ${key}`);
  return found[0]?.value || undefined;
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
    if (value[i] === '"') {
      i++;
      let closed = false;
      while (i < value.length) {
        const c = value[i]!;
        // Only `\"` is an escape: other backslashes belong to the value (RFC 2253 escapes in Subject).
        if (c === '\\' && value[i + 1] === '"') {
          v += '"';
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
    pairs.push({ key, value: v });
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
      if (elements.length >= MAX_ELEMENTS) throw bad('too many elements');
    } else if (sep !== ';') throw bad('expected ";" or ","');
    while (value[i] === ' ') i++;
  }
}

export const envoy: ProxyHeaderParser = {
  headers: [XFCC],
  parse(headers) {
    const value = one(headers, XFCC);
    if (value === undefined) return undefined;
    const element = parseXfcc(value).at(-1)!;
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
  },
};
