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

// The largest arc @hookwarden/verify/dn decodes (it reads arcs as safe integers, 7 bits at a time):
// a larger one would make a certificate whose subject no receiver can read back.
const MAX_ARC = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 128));

/** Checks a dotted OID's arcs against X.660 and the receivers' decoder; returns them exactly. */
function oidArcs(dotted: string, subject: string, field: string): bigint[] {
  const arcs = dotted.split('.').map(BigInt);
  const [first, second] = arcs as [bigint, bigint];
  if (first > 2n || (first < 2n && second > 39n)) {
    throw optionError(
      field,
      `the attribute type ${dotted} in "${subject}" is not a valid OID (it starts 0.0-39, 1.0-39 or 2.x)`,
    );
  }
  if (arcs.some((arc) => arc > MAX_ARC) || first * 40n + second > MAX_ARC) {
    throw optionError(
      field,
      `the attribute type ${dotted} in "${subject}" has an arc larger than ${MAX_ARC}: use a shorter OID`,
    );
  }
  return arcs;
}

// Base-128 in BigInt, so an arc is encoded from its exact digits, never from a rounded double.
function oid(arcs: bigint[]): Buffer {
  const out: number[] = [];
  const push = (n: bigint) => {
    const chunk = [Number(n & 0x7fn)];
    for (let v = n >> 7n; v > 0n; v >>= 7n) chunk.unshift(0x80 | Number(v & 0x7fn));
    out.push(...chunk);
  };
  push(arcs[0]! * 40n + arcs[1]!);
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
      const typeOid = attributeOid(type);
      if (!typeOid) throw optionError(field, `unknown attribute type '${type}': use a dotted OID`);
      oidArcs(typeOid, subject, field);
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
          const typeDer = oid(oidArcs(typeOid, subject, field));
          return tlv(0x30, Buffer.concat([typeDer, value(type, typeOid, v, field)]));
        })
        .sort(Buffer.compare);
      return tlv(0x31, Buffer.concat(members));
    });
  return tlv(0x30, Buffer.concat(sets));
}
