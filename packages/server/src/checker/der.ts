import { CHECK_ERROR_CODES, CheckError } from './errors.ts';

/**
 * Just enough DER to read the distinguished names a server advertises in its CertificateRequest
 * and to find a certificate's subject and issuer bytes. Names are compared as DER bytes, which is
 * what OpenSSL does when a client picks a certificate for the advertised CAs.
 */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the value. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

function malformed(what: string): CheckError {
  return new CheckError(CHECK_ERROR_CODES.derMalformed, `malformed DER: ${what}`);
}

export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw malformed('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tags are not used in names');
  let len = buf[offset + 1]!;
  let valueStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw malformed('unsupported length encoding');
    if (valueStart + n > limit) throw malformed('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[valueStart + i]!;
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > limit) throw malformed('value runs past its container');
  return { tag, start: offset, valueStart, end };
}

/** The children of a constructed value. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.valueStart;
  // Bounded by the parent's length: every child consumes at least two bytes.
  while (at < parent.end) {
    const child = readTlv(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const OID_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw malformed('empty OID');
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw malformed('OID arc too large');
    if ((b & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  if (bytes[bytes.length - 1]! & 0x80) throw malformed('unterminated OID');
  return parts.join('.');
}

const STRING_TAGS = new Set([
  0x0c /* UTF8 */, 0x13 /* Printable */, 0x14 /* T61 */, 0x16 /* IA5 */, 0x1a /* Visible */,
]);

function decodeValue(buf: Uint8Array, tlv: Tlv): string {
  const bytes = buf.subarray(tlv.valueStart, tlv.end);
  if (STRING_TAGS.has(tlv.tag)) return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (tlv.tag === 0x1e) {
    // BMPString: UTF-16 big-endian.
    let s = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i]! * 256 + bytes[i + 1]!);
    return s;
  }
  // RFC 4514 §2.4: values of other types are written as '#' and the hex of their whole encoding.
  return `#${Buffer.from(buf.subarray(tlv.start, tlv.end)).toString('hex')}`;
}

export type Rdn = { type: string; value: string }[];

/** A DER `Name` (SEQUENCE OF SET OF AttributeTypeAndValue) as RDNs in encoding order. */
export function nameToRdns(der: Uint8Array): Rdn[] {
  const name = readTlv(der, 0);
  if (name.tag !== 0x30 || name.end !== der.length) throw malformed('a Name is one SEQUENCE');
  return children(der, name).map((set) => {
    if (set.tag !== 0x31) throw malformed('an RDN is a SET');
    return children(der, set).map((atv) => {
      if (atv.tag !== 0x30) throw malformed('an attribute is a SEQUENCE');
      const [type, value] = children(der, atv);
      if (!type || !value || type.tag !== 0x06) throw malformed('an attribute is an OID and a value');
      const oid = decodeOid(der.subarray(type.valueStart, type.end));
      return { type: OID_NAMES[oid] ?? oid, value: decodeValue(der, value) };
    });
  });
}

/** The DER bytes of a certificate's issuer and subject Names (tbsCertificate fields 3 and 5). */
export function certificateNames(certDer: Uint8Array): { issuer: Buffer; subject: Buffer } {
  const cert = readTlv(certDer, 0);
  if (cert.tag !== 0x30) throw malformed('a certificate is a SEQUENCE');
  const [tbs] = children(certDer, cert);
  if (tbs?.tag !== 0x30) throw malformed('tbsCertificate is a SEQUENCE');
  const fields = children(certDer, tbs);
  // The version field [0] is optional (absent in v1 certificates).
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = fields[base + 2];
  const subject = fields[base + 4];
  if (!issuer || !subject || issuer.tag !== 0x30 || subject.tag !== 0x30) throw malformed('tbsCertificate fields');
  return {
    issuer: Buffer.from(certDer.subarray(issuer.start, issuer.end)),
    subject: Buffer.from(certDer.subarray(subject.start, subject.end)),
  };
}
