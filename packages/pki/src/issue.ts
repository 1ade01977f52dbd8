import { randomBytes, type webcrypto } from 'node:crypto';
import { formatDn, getAttribute, parseDn } from '@hookwarden/verify/dn';
import { optionError, PKI_CODES, PkiError } from './errors.ts';
import { generateKeyPair, type KeyType, privateKeyPem, readPrivateKey, signingKey } from './keys.ts';
import { encodeName, parseSubject } from './name.ts';
import {
  checkDate,
  checkDays,
  checkDnsNames,
  checkIps,
  checkKeyType,
  checkNow,
  checkObject,
  checkPathLength,
  checkUsage,
} from './options.ts';
import { toX509 } from './pem.ts';
import { decodeExtensions, x509 } from './x509.ts';

export interface CertKey {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

export interface Hierarchy {
  root: CertKey;
  intermediate: CertKey;
  leaf: CertKey;
}

export interface IssueOptions {
  /** RFC 4514 DN of the new certificate. */
  subject: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  keyType?: KeyType;
  validityDays?: number;
  notBefore?: Date;
  now?: () => Date;
  /** 'client' (default): clientAuth leaf; 'server': serverAuth leaf for test receivers; 'ca': intermediate. */
  usage?: 'client' | 'server' | 'ca';
  pathLength?: number;
}

const DAY_MS = 86_400_000;
// Backdating absorbs clock skew between us and receivers, so a fresh certificate is not "not yet valid".
const BACKDATE_MS = 5 * 60_000;

/** A random positive serial of 16 bytes (RFC 5280 allows 20; the first byte is kept in 0x01..0x7f). */
function serialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function pem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
}

function caExtensions(pathLength: number | undefined): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

interface PreparedIssuer {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  key: webcrypto.CryptoKey;
  algorithm: webcrypto.Algorithm;
  aki: x509.AuthorityKeyIdentifierExtension;
}

// Checking an issuer (parse, CA flag, key match, key import) costs more than issuing itself; it is
// done once per issuer object and forgotten with it. The entry is reused only while the object
// still holds the same PEM text.
const prepared = new WeakMap<CertKey, PreparedIssuer>();

async function prepareIssuer(issuer: CertKey): Promise<PreparedIssuer> {
  const known = prepared.get(issuer);
  if (known && known.certPem === issuer.certPem && known.keyPem === issuer.keyPem) return known;
  const node = toX509(issuer.certPem, 'issuer certificate');
  if (!node.ca) throw optionError('issuer', 'the issuer certificate is not a CA (basicConstraints CA:FALSE)');
  if (!node.checkPrivateKey(readPrivateKey(issuer.keyPem, 'issuer private key'))) {
    throw new PkiError(PKI_CODES.KEY_MISMATCH, 'the issuer private key does not belong to the issuer certificate');
  }
  const cert = decodeExtensions(node, 'issuer certificate');
  const { key, algorithm } = await signingKey(issuer.keyPem);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(cert.publicKey);
  const entry = { certPem: issuer.certPem, keyPem: issuer.keyPem, cert, key, algorithm, aki };
  prepared.set(issuer, entry);
  return entry;
}

/** A self-signed root CA. */
export async function createSelfSignedCa(opts: {
  subject: string;
  keyType?: KeyType;
  validityDays?: number;
  now?: () => Date;
  pathLength?: number;
}): Promise<CertKey> {
  const o = checkObject(opts, 'options');
  const name = new x509.Name(encodeName(o.subject as string, 'subject'));
  const keyType = checkKeyType(o.keyType);
  const days = checkDays(o.validityDays, 3650);
  const now = checkNow(o.now)();
  const pathLength = checkPathLength(o.pathLength);
  const keys = await generateKeyPair(keyType);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialHex(),
    name,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys,
    signingAlgorithm: keyType === 'ec-p256' ? { name: 'ECDSA', hash: 'SHA-256' } : keys.privateKey.algorithm,
    extensions: [...caExtensions(pathLength), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return { certPem: pem(cert), keyPem: await privateKeyPem(keys.privateKey) };
}

/** Issues a certificate signed by `issuer` (a CA certificate and its private key). */
export async function issueCertificate(issuer: CertKey, opts: IssueOptions): Promise<CertKey> {
  const o = checkObject(opts, 'options');
  checkObject(issuer, 'issuer');
  const usage = checkUsage(o.usage);
  const name = new x509.Name(encodeName(o.subject as string, 'subject'));
  const keyType = checkKeyType(o.keyType);
  const days = checkDays(o.validityDays, usage === 'ca' ? 1825 : 365);
  const now = checkNow(o.now)();
  const notBeforeOpt = checkDate(o.notBefore, 'notBefore');
  let dnsNames = checkDnsNames(o.dnsNames, usage === 'server');
  let ips = checkIps(o.ipAddresses);
  const pathLength = checkPathLength(o.pathLength) ?? (usage === 'ca' ? 0 : undefined);
  if (usage !== 'ca' && o.pathLength !== undefined) throw optionError('pathLength', "only applies to usage 'ca'");
  if (usage === 'server' && dnsNames.length === 0 && ips.length === 0) {
    dnsNames = ['localhost'];
    ips = ['127.0.0.1', '::1'];
  }

  const { cert: issuerCert, key, algorithm, aki } = await prepareIssuer(issuer);

  const notBefore = notBeforeOpt ?? new Date(now.getTime() - BACKDATE_MS);
  // A certificate cannot usefully outlive its issuer: chains are checked at every level.
  const notAfter = new Date(Math.min(now.getTime() + days * DAY_MS, issuerCert.notAfter.getTime()));
  if (issuerCert.notAfter <= notBefore) {
    // Not the caller's validityDays: no validity at all would help, the issuer itself is over.
    throw new PkiError(
      PKI_CODES.CA_EXPIRING,
      `the issuer "${issuerCert.subject}" expired on ${issuerCert.notAfter.toISOString()}: renew it (or issue from another CA)`,
    );
  }
  if (notAfter <= notBefore) throw optionError('validityDays', 'the certificate would end before it starts');

  const keys = await generateKeyPair(keyType);
  const extensions: x509.Extension[] = [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey), aki];
  if (usage === 'ca') {
    extensions.push(...caExtensions(pathLength));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    const rsa = keyType !== 'ec-p256';
    // RSA server keys may be used for RSA key transport in TLS 1.2; client keys only ever sign.
    const flags =
      usage === 'server' && rsa
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
        : x509.KeyUsageFlags.digitalSignature;
    extensions.push(new x509.KeyUsagesExtension(flags, true));
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
      ]),
    );
  }
  if (dnsNames.length > 0 || ips.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(),
    subject: name,
    issuer: issuerCert.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: key,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { certPem: pem(cert), keyPem: await privateKeyPem(keys.privateKey) };
}

function caSubject(leafSubject: string, role: string): string {
  const org = getAttribute(parseDn(leafSubject), 'O')[0];
  const rdns = [[{ type: 'CN', value: `${org ?? 'Hookwarden'} Callback ${role} CA` }]];
  if (org) rdns.push([{ type: 'O', value: org }]);
  return formatDn(rdns);
}

/** Root CA → intermediate CA (pathLen 0) → client leaf, all of one key type. */
export async function createHierarchy(opts: {
  subject: string;
  dnsNames?: string[];
  keyType?: KeyType;
  validityDays?: number;
  now?: () => Date;
  rootSubject?: string;
  intermediateSubject?: string;
}): Promise<Hierarchy> {
  const o = checkObject(opts, 'options');
  parseSubject(o.subject, 'subject');
  const keyType = checkKeyType(o.keyType);
  const days = checkDays(o.validityDays, 365);
  const now = checkNow(o.now);
  const dnsNames = checkDnsNames(o.dnsNames, false);
  const rootSubject = o.rootSubject ?? caSubject(o.subject as string, 'Root');
  const intermediateSubject = o.intermediateSubject ?? caSubject(o.subject as string, 'Intermediate');
  parseSubject(rootSubject, 'rootSubject');
  parseSubject(intermediateSubject, 'intermediateSubject');
  // The CAs outlive several leaf rotations.
  const root = await createSelfSignedCa({
    subject: rootSubject as string,
    keyType,
    validityDays: Math.min(36_500, Math.max(3650, days * 4)),
    now,
    pathLength: 1,
  });
  const intermediate = await issueCertificate(root, {
    subject: intermediateSubject as string,
    keyType,
    validityDays: Math.min(36_500, Math.max(1825, days * 3)),
    now,
    usage: 'ca',
    pathLength: 0,
  });
  const leaf = await issueCertificate(intermediate, {
    subject: o.subject as string,
    dnsNames,
    keyType,
    validityDays: days,
    now,
  });
  return { root, intermediate, leaf };
}

/** What receivers configure as trusted CAs: intermediate(s) first, then the root. */
export function caBundlePem(h: Hierarchy): string {
  return h.intermediate.certPem + h.root.certPem;
}

/** What the client presents in the handshake: the leaf, then intermediate(s). */
export function chainPem(h: Hierarchy): string {
  return h.leaf.certPem + h.intermediate.certPem;
}
