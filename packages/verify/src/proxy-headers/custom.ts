/**
 * A proxy we do not know by name: the operator maps its headers. Values: the verify header and the
 * value meaning success, subject DN (RFC 4514/2253), SHA-256 / SHA-1 hex fingerprints, the
 * certificate as (optionally URL-encoded) PEM or as base64 DER.
 */
import { parseCertificate } from '../certificate.ts';
import { PolicyError } from '../errors.ts';
import {
  base64Bytes,
  hexFingerprint,
  one,
  oneEntry,
  type ProxyHeaderParser,
  pemCertificates,
  urlDecode,
} from './facts.ts';

export interface CustomHeaderMap {
  verify?: string;
  /** The verify header's value when the proxy accepted the certificate (e.g. `SUCCESS`). */
  verifySuccess?: string;
  subject?: string;
  fingerprintSha256?: string;
  fingerprintSha1?: string;
  certPem?: string;
  certDer?: string;
}

const FIELDS = ['verify', 'subject', 'fingerprintSha256', 'fingerprintSha1', 'certPem', 'certDer'] as const;
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

export function customParser(map: CustomHeaderMap, field: string): ProxyHeaderParser {
  if (typeof map !== 'object' || map === null) throw new PolicyError(field, 'must be an object of header names');
  const names: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const key of Object.keys(map)) {
    if (key !== 'verifySuccess' && !(FIELDS as readonly string[]).includes(key)) {
      throw new PolicyError(`${field}.${key}`, 'is not a known header role');
    }
  }
  for (const key of FIELDS) {
    const v = map[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !TOKEN.test(v.toLowerCase()))
      throw new PolicyError(`${field}.${key}`, 'must be a header name');
    names[key] = v.toLowerCase();
  }
  if ((map.verify === undefined) !== (map.verifySuccess === undefined)) {
    throw new PolicyError(`${field}.verifySuccess`, 'and verify go together');
  }
  if (!names.subject && !names.fingerprintSha256 && !names.fingerprintSha1 && !names.certPem && !names.certDer) {
    throw new PolicyError(field, 'map at least one of subject, fingerprintSha256, fingerprintSha1, certPem, certDer');
  }
  return {
    headers: Object.values(names),
    parse(headers) {
      const verify = names.verify ? one(headers, names.verify) : undefined;
      const subject = names.subject ? one(headers, names.subject) : undefined;
      const sha256 = names.fingerprintSha256
        ? hexFingerprint(one(headers, names.fingerprintSha256), 32, names.fingerprintSha256)
        : undefined;
      const sha1 = names.fingerprintSha1
        ? hexFingerprint(one(headers, names.fingerprintSha1), 20, names.fingerprintSha1)
        : undefined;
      const pem = names.certPem ? oneEntry(headers, names.certPem) : undefined;
      const der = names.certDer ? oneEntry(headers, names.certDer) : undefined;
      if (
        subject === undefined &&
        sha256 === undefined &&
        sha1 === undefined &&
        pem === undefined &&
        der === undefined
      ) {
        return undefined;
      }
      const certs =
        pem !== undefined
          ? pemCertificates(pem.includes('%') ? urlDecode(pem, names.certPem!) : pem, names.certPem!)
          : der !== undefined
            ? [parseCertificate(base64Bytes(der, names.certDer!), names.certDer!)]
            : [];
      const verified = names.verify === undefined ? undefined : verify === map.verifySuccess;
      return {
        ...(verified === undefined ? {} : { verified }),
        ...(verified === false ? { failure: `${names.verify} is ${JSON.stringify(verify ?? '')}` } : {}),
        ...(subject === undefined ? {} : { subject }),
        fingerprints: { ...(sha256 ? { sha256Hex: sha256 } : {}), ...(sha1 ? { sha1Hex: sha1 } : {}) },
        ...(certs[0] === undefined ? {} : { cert: certs[0] }),
        chain: certs.slice(1),
      };
    },
  };
}
