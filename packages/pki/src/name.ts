import { attributeOid, parseDn, type Rdn } from '@hookwarden/verify/dn';
import { optionError } from './errors.ts';

/**
 * Encodes an RFC 4514 DN as the DER of an X.501 Name ourselves, rather than through a library's own
 * DN string parser, so that the escapes mean exactly what @hookwarden/verify/dn says they mean and
 * the receiver's parser reads back the DN the operator wrote.
 */

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag, ...length(content.length)]), content]);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (n: number) => {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(0x06, Uint8Array.from(out));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const ASCII = /^[\x00-\x7f]*$/;
const C = '2.5.4.6';
const IA5 = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);
const PRINTABLE_PREFERRED = new Set(['2.5.4.5', '2.5.4.46']);

function value(type: string, typeOid: string, v: string, field: string): Buffer {
  const bytes = Buffer.from(v, 'utf8');
  if (typeOid === C) {
    if (!/^[A-Za-z]{2}$/.test(v)) throw optionError(field, `C must be a two-letter country code, not '${v}'`);
    return tlv(0x13, bytes);
  }
  if (IA5.has(typeOid)) {
    if (!ASCII.test(v)) throw optionError(field, `${type} must be ASCII`);
    return tlv(0x16, bytes);
  }
  if (PRINTABLE_PREFERRED.has(typeOid) && PRINTABLE.test(v)) return tlv(0x13, bytes);
  return tlv(0x0c, bytes);
}

/** Parses and checks a DN option; throws HW_PKI_OPTION_INVALID naming `field`. */
export function parseSubject(subject: unknown, field: string): Rdn[] {
  if (typeof subject !== 'string' || subject.trim() === '') {
    throw optionError(
      field,
      'a distinguished name is required, e.g. "CN=callbacks.example.com,O=Example\\, Inc.,C=US"',
    );
  }
  let rdns: Rdn[];
  try {
    rdns = parseDn(subject);
  } catch (err) {
    throw optionError(field, (err as Error).message);
  }
  for (const rdn of rdns) {
    for (const { type } of rdn) {
      if (!attributeOid(type)) throw optionError(field, `unknown attribute type '${type}': use a dotted OID`);
    }
  }
  return rdns;
}

/** The DER Name for an RFC 4514 DN (most significant RDN first, as X.501 orders it). */
export function encodeName(subject: string, field = 'subject'): Uint8Array {
  const rdns = parseSubject(subject, field);
  const sets = rdns
    .slice()
    .reverse()
    .map((rdn) => {
      // DER orders the members of a SET OF by their encodings.
      const members = rdn
        .map(({ type, value: v }) => {
          const typeOid = attributeOid(type)!;
          return tlv(0x30, Buffer.concat([oid(typeOid), value(type, typeOid, v, field)]));
        })
        .sort(Buffer.compare);
      return tlv(0x31, Buffer.concat(members));
    });
  return tlv(0x30, Buffer.concat(sets));
}
