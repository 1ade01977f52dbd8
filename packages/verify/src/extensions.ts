/**
 * The X.509 extensions a chain check decides on, read from the DER: Node's X509Certificate exposes
 * the CA flag and the extended key usage, but not the path length, the key usage bits, name
 * constraints, the raw subject alternative names or which extensions are critical.
 */
import {
  childrenOf,
  contentOf,
  DerError,
  decodeOid,
  expectTlv,
  type RawAttribute,
  rawName,
  readTlv,
  type Tlv,
  tbsFields,
} from './der.ts';

/** GeneralName tags (RFC 5280 §4.2.1.6), context-specific. */
export const GN = {
  otherName: 0,
  rfc822Name: 1,
  dNSName: 2,
  x400Address: 3,
  directoryName: 4,
  ediPartyName: 5,
  uniformResourceIdentifier: 6,
  iPAddress: 7,
  registeredID: 8,
} as const;

export interface GeneralName {
  /** GN.* */
  type: number;
  /** The content bytes: IA5 text, address bytes, or the DER of a Name / otherName. */
  value: Uint8Array;
  /** directoryName: the Name's RDNs, DER order. */
  name?: RawAttribute[][];
  /** otherName: its type-id. */
  otherNameType?: string;
}

export interface GeneralSubtree {
  base: GeneralName;
  /** `minimum` other than 0 or any `maximum`: RFC 5280 forbids them; OpenSSL refuses them too. */
  minMax: boolean;
}

export interface CertificateFacts {
  subject: RawAttribute[][];
  issuer: RawAttribute[][];
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** The KeyUsage BIT STRING's bits: index 0 is digitalSignature. */
  keyUsage?: boolean[];
  extendedKeyUsage?: string[];
  /** Netscape cert type bits (index 0 is SSL client), a legacy extension OpenSSL still honours. */
  nsCertType?: boolean[];
  subjectAltNames: GeneralName[];
  nameConstraints?: { permitted: GeneralSubtree[]; excluded: GeneralSubtree[] };
  /** OIDs of critical extensions that nothing here processes. */
  unhandledCritical: string[];
}

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  nsCertType: '2.16.840.1.113730.1.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  smtpUtf8Mailbox: '1.3.6.1.5.5.7.8.9',
  commonName: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
} as const;

/**
 * Critical extensions whose meaning is applied here. certificatePolicies restricts nothing while the
 * receiver requires no policy (as OpenSSL, which accepts it critical, does by default). Any other
 * critical extension (policy constraints and mappings included) refuses the certificate: an
 * extension marked critical is a limit its issuer set, and ignoring a limit fails open.
 */
const HANDLED = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extendedKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.nsCertType,
]);

function bits(der: Uint8Array, tlv: Tlv): boolean[] {
  if (tlv.tag !== 0x03 || tlv.end === tlv.valueStart) throw new DerError('expected a BIT STRING');
  const unused = der[tlv.valueStart]!;
  const bytes = der.subarray(tlv.valueStart + 1, tlv.end);
  if (unused > 7 || (bytes.length === 0 && unused !== 0)) throw new DerError('malformed BIT STRING');
  const out: boolean[] = [];
  for (let i = 0; i < bytes.length * 8 - unused; i++) out.push((bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0);
  return out;
}

function smallInteger(der: Uint8Array, tlv: Tlv): number {
  const v = contentOf(der, tlv);
  if (v.length === 0 || v.length > 4 || (v[0]! & 0x80) !== 0)
    throw new DerError('expected a small non-negative INTEGER');
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

function generalName(der: Uint8Array, tlv: Tlv): GeneralName {
  const type = tlv.tag & 0x1f;
  if ((tlv.tag & 0xc0) !== 0x80 || type > GN.registeredID) throw new DerError('expected a GeneralName');
  const value = contentOf(der, tlv);
  if (type === GN.directoryName) {
    const inner = readTlv(der, tlv.valueStart, tlv.end);
    if (inner.end !== tlv.end) throw new DerError('extra data after a directoryName');
    return { type, value, name: rawName(der, inner) };
  }
  if (type === GN.otherName) {
    const id = expectTlv(der, tlv.valueStart, tlv.end, 0x06, 'an otherName type-id');
    return { type, value, otherNameType: decodeOid(contentOf(der, id)) };
  }
  return { type, value };
}

function generalNames(der: Uint8Array, tlv: Tlv): GeneralName[] {
  if (tlv.tag !== 0x30) throw new DerError('expected GeneralNames (SEQUENCE)');
  return childrenOf(der, tlv).map((gn) => generalName(der, gn));
}

function subtrees(der: Uint8Array, tlv: Tlv): GeneralSubtree[] {
  return childrenOf(der, tlv).map((subtree) => {
    if (subtree.tag !== 0x30) throw new DerError('expected a GeneralSubtree (SEQUENCE)');
    const [base, ...rest] = childrenOf(der, subtree);
    if (!base) throw new DerError('a GeneralSubtree has no base');
    let minMax = false;
    for (const field of rest) {
      if (field.tag === 0x80) minMax ||= contentOf(der, field).some((b) => b !== 0);
      else if (field.tag === 0x81) minMax = true;
      else throw new DerError('unexpected field in a GeneralSubtree');
    }
    return { base: generalName(der, base), minMax };
  });
}

/** Reads the facts of one certificate's DER. Throws DerError when the DER does not say them clearly. */
export function certificateFacts(der: Uint8Array): CertificateFacts {
  const fields = tbsFields(der);
  const facts: CertificateFacts = {
    subject: rawName(der, fields.subject),
    issuer: rawName(der, fields.issuer),
    subjectAltNames: [],
    unhandledCritical: [],
  };
  if (!fields.extensions) return facts;
  const list = readTlv(der, fields.extensions.valueStart, fields.extensions.end);
  if (list.tag !== 0x30 || list.end !== fields.extensions.end) throw new DerError('expected Extensions (SEQUENCE)');
  const seen = new Set<string>();
  for (const ext of childrenOf(der, list)) {
    if (ext.tag !== 0x30) throw new DerError('expected an Extension (SEQUENCE)');
    const parts = childrenOf(der, ext);
    const oidTlv = parts[0];
    if (oidTlv?.tag !== 0x06) throw new DerError('an Extension has no OID');
    const oid = decodeOid(contentOf(der, oidTlv!));
    // Two copies of one extension: which one counts is a guess (RFC 5280 forbids it; OpenSSL refuses).
    if (seen.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    seen.add(oid);
    let critical = false;
    let i = 1;
    if (parts[i]?.tag === 0x01) {
      const b = contentOf(der, parts[i]!);
      if (b.length !== 1) throw new DerError('malformed BOOLEAN');
      critical = b[0] !== 0;
      i++;
    }
    const octets = parts[i];
    if (octets?.tag !== 0x04 || parts.length !== i + 1) throw new DerError(`malformed extension ${oid}`);
    const inner = readTlv(der, octets.valueStart, octets.end);
    if (inner.end !== octets.end) throw new DerError(`extra data in extension ${oid}`);
    readExtension(der, oid, inner, facts);
    if (critical && !HANDLED.has(oid)) facts.unhandledCritical.push(oid);
  }
  return facts;
}

function readExtension(der: Uint8Array, oid: string, value: Tlv, facts: CertificateFacts): void {
  switch (oid) {
    case OID.basicConstraints: {
      if (value.tag !== 0x30) throw new DerError('basicConstraints is not a SEQUENCE');
      const [first, second, ...extra] = childrenOf(der, value);
      const flag = first?.tag === 0x01 ? first : undefined;
      const length = flag ? second : first;
      if (extra.length > 0 || (flag && flag.end - flag.valueStart !== 1) || (length && length.tag !== 0x02)) {
        throw new DerError('malformed basicConstraints');
      }
      if (!flag && second) throw new DerError('malformed basicConstraints');
      const ca = flag !== undefined && der[flag.valueStart] !== 0;
      const pathLen = length === undefined ? undefined : smallInteger(der, length);
      // A path length on a certificate that is not a CA is inconsistent (OpenSSL marks it invalid).
      if (pathLen !== undefined && !ca) throw new DerError('basicConstraints has a path length but no CA flag');
      facts.basicConstraints = pathLen === undefined ? { ca } : { ca, pathLen };
      return;
    }
    case OID.keyUsage:
      facts.keyUsage = bits(der, value);
      return;
    case OID.nsCertType:
      facts.nsCertType = bits(der, value);
      return;
    case OID.extendedKeyUsage:
      if (value.tag !== 0x30) throw new DerError('extendedKeyUsage is not a SEQUENCE');
      facts.extendedKeyUsage = childrenOf(der, value).map((t) => {
        if (t.tag !== 0x06) throw new DerError('extendedKeyUsage holds something other than OIDs');
        return decodeOid(contentOf(der, t));
      });
      return;
    case OID.subjectAltName:
      facts.subjectAltNames = generalNames(der, value);
      return;
    case OID.nameConstraints: {
      if (value.tag !== 0x30) throw new DerError('nameConstraints is not a SEQUENCE');
      const nc: NonNullable<CertificateFacts['nameConstraints']> = { permitted: [], excluded: [] };
      for (const field of childrenOf(der, value)) {
        if (field.tag === 0xa0) nc.permitted = subtrees(der, field);
        else if (field.tag === 0xa1) nc.excluded = subtrees(der, field);
        else throw new DerError('malformed nameConstraints');
      }
      facts.nameConstraints = nc;
      return;
    }
    default:
      return;
  }
}
