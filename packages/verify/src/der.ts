/**
 * Just enough DER to read what the verifier decides on from a certificate's bytes: the TBS fields,
 * Names, extensions and the ASN.1 string types. Errors are DerError; each caller turns them into its
 * own code (HW_DN_DER_INVALID for DN readers, HW_CERT_INVALID for certificate checks).
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface Tlv {
  tag: number;
  start: number;
  valueStart: number;
  end: number;
}

export function readTlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError(`truncated DER at offset ${pos}`);
  const tag = der[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported multi-byte DER tag at offset ${pos}`);
  let len = der[pos + 1]!;
  let valueStart = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError(`indefinite length is not DER (offset ${pos})`);
    if (n > 4) throw new DerError(`DER length too large at offset ${pos}`);
    if (valueStart + n > limit) throw new DerError(`truncated DER length at offset ${pos}`);
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + der[valueStart + k]!;
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > limit) throw new DerError(`DER element at offset ${pos} runs past its container`);
  return { tag, start: pos, valueStart, end };
}

export function expectTlv(der: Uint8Array, pos: number, limit: number, tag: number, what: string): Tlv {
  const tlv = readTlv(der, pos, limit);
  if (tlv.tag !== tag) throw new DerError(`expected ${what} at offset ${pos}`);
  return tlv;
}

/** The elements inside a constructed TLV, in order. */
export function childrenOf(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.valueStart; pos < parent.end; ) {
    const tlv = readTlv(der, pos, parent.end);
    out.push(tlv);
    pos = tlv.end;
  }
  return out;
}

export function contentOf(der: Uint8Array, tlv: Tlv): Uint8Array {
  return der.subarray(tlv.valueStart, tlv.end);
}

export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0 || bytes.length > 64) throw new DerError('bad OBJECT IDENTIFIER length');
  const arcs: number[] = [];
  let n = 0;
  for (let k = 0; k < bytes.length; k++) {
    const b = bytes[k]!;
    if (n === 0 && b === 0x80) throw new DerError('OBJECT IDENTIFIER arc is not minimally encoded');
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OBJECT IDENTIFIER arc too large');
    if (!(b & 0x80)) {
      if (arcs.length === 0) arcs.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else arcs.push(n);
      n = 0;
    } else if (k === bytes.length - 1) throw new DerError('OBJECT IDENTIFIER ends inside an arc');
  }
  return arcs.join('.');
}

// ignoreBOM: a leading U+FEFF is part of the value. Dropping it would make a subject that begins with
// an invisible character read as the clean name it imitates.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// utf-16le needs no ICU (utf-16be does): BMPStrings are byte-swapped first.
const utf16le = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

export const UTF8_STRING = 0x0c;
export const IA5_STRING = 0x16;

/**
 * The text of an ASN.1 string of type `tag`, or undefined for a type that is not a string. Every
 * character is kept as encoded (a BOM, controls, spaces at either end): comparing is the caller's.
 */
export function decodeString(tag: number, v: Uint8Array): string | undefined {
  try {
    switch (tag) {
      case UTF8_STRING:
        return utf8.decode(v);
      case 0x12: // NumericString
      case 0x13: // PrintableString
      case 0x14: // TeletexString: read as Latin-1, as OpenSSL does
      case IA5_STRING:
      case 0x1a: // VisibleString
        return Buffer.from(v).toString('latin1');
      case 0x1e: // BMPString: UTF-16BE
        if (v.length % 2 !== 0) throw new DerError('BMPString of odd length');
        return utf16le.decode(Buffer.from(v).swap16());
      case 0x1c: {
        // UniversalString: UTF-32BE
        if (v.length % 4 !== 0) throw new DerError('UniversalString length not a multiple of 4');
        let out = '';
        for (let k = 0; k < v.length; k += 4) {
          const cp = ((v[k]! << 24) | (v[k + 1]! << 16) | (v[k + 2]! << 8) | v[k + 3]!) >>> 0;
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new DerError('UniversalString holds no character');
          out += String.fromCodePoint(cp);
        }
        return out;
      }
      default:
        return undefined;
    }
  } catch (err) {
    if (err instanceof DerError) throw err;
    throw new DerError('attribute value is not valid text for its string type');
  }
}

/** One AttributeTypeAndValue of a Name, undecoded. */
export interface RawAttribute {
  oid: string;
  /** The value's tag and content bytes. */
  tag: number;
  value: Uint8Array;
  /** The whole value TLV. */
  raw: Uint8Array;
}

/** The RDNs of a Name in DER order (most significant first), each attribute undecoded. */
export function rawName(der: Uint8Array, tlv: Tlv): RawAttribute[][] {
  if (tlv.tag !== 0x30) throw new DerError(`expected a Name (SEQUENCE) at offset ${tlv.start}`);
  const rdns: RawAttribute[][] = [];
  for (const set of childrenOf(der, tlv)) {
    if (set.tag !== 0x31) throw new DerError(`expected an RDN (SET) at offset ${set.start}`);
    const rdn: RawAttribute[] = [];
    for (const atv of childrenOf(der, set)) {
      if (atv.tag !== 0x30) throw new DerError(`expected an AttributeTypeAndValue (SEQUENCE) at offset ${atv.start}`);
      const oidTlv = expectTlv(der, atv.valueStart, atv.end, 0x06, 'an attribute type (OID)');
      const valueTlv = readTlv(der, oidTlv.end, atv.end);
      if (valueTlv.end !== atv.end) throw new DerError(`extra data after an attribute value at offset ${valueTlv.end}`);
      rdn.push({
        oid: decodeOid(contentOf(der, oidTlv)),
        tag: valueTlv.tag,
        value: contentOf(der, valueTlv),
        raw: der.subarray(valueTlv.start, valueTlv.end),
      });
    }
    if (rdn.length === 0) throw new DerError(`empty RDN at offset ${set.start}`);
    rdns.push(rdn);
  }
  return rdns;
}

/** Where the fields the verifier reads sit in a certificate's DER. */
export interface TbsFields {
  issuer: Tlv;
  subject: Tlv;
  /** The [3] Extensions wrapper, when present. */
  extensions?: Tlv;
}

export function tbsFields(der: Uint8Array): TbsFields {
  const cert = expectTlv(der, 0, der.length, 0x30, 'a Certificate (SEQUENCE)');
  const tbs = expectTlv(der, cert.valueStart, cert.end, 0x30, 'a TBSCertificate (SEQUENCE)');
  let next = readTlv(der, tbs.valueStart, tbs.end);
  if (next.tag === 0xa0) next = readTlv(der, next.end, tbs.end); // [0] version
  if (next.tag !== 0x02) throw new DerError('expected the serial number (INTEGER)');
  const alg = expectTlv(der, next.end, tbs.end, 0x30, 'the signature algorithm (SEQUENCE)');
  const issuer = readTlv(der, alg.end, tbs.end);
  const validity = expectTlv(der, issuer.end, tbs.end, 0x30, 'the validity (SEQUENCE)');
  const subject = readTlv(der, validity.end, tbs.end);
  const spki = expectTlv(der, subject.end, tbs.end, 0x30, 'the subject public key (SEQUENCE)');
  let extensions: Tlv | undefined;
  for (let pos = spki.end; pos < tbs.end; ) {
    const field = readTlv(der, pos, tbs.end);
    // [1] issuerUniqueID and [2] subjectUniqueID may come first; [3] is the extensions.
    if (field.tag === 0xa3) extensions = field;
    else if (field.tag !== 0x81 && field.tag !== 0x82) throw new DerError(`unexpected TBSCertificate field at ${pos}`);
    pos = field.end;
  }
  return { issuer, subject, ...(extensions ? { extensions } : {}) };
}
