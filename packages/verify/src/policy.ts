/**
 * The verification policy: what a receiver requires of every callback. Validated once, at
 * creation, into a compiled form; every problem names the field to fix.
 */
import type { X509Certificate } from 'node:crypto';
import { type Pin, parsePemBundle, parsePin } from './certificate.ts';
import { parseDn, type Rdn } from './dn.ts';
import { PolicyError } from './errors.ts';
import type { ForwardedHeader } from './forwarded.ts';
import { IpSet } from './ip.ts';
import {
  type CustomHeaderMap,
  customParser,
  envoyParser,
  MAX_XFCC_ELEMENTS,
  PROXY_PARSERS,
  type ProxyHeaderParser,
  type ProxyKind,
} from './proxy-headers/index.ts';
import { MemoryReplayStore, type ReplayStore } from './replay.ts';
import { createSignatureChecker, DEFAULT_TOLERANCE_SECONDS, hmacKey } from './signature.ts';
import { createTrustDocumentSource, type TrustDocumentOptions, type TrustSource } from './trust-document.ts';

export type CertificateSource = 'socket' | ProxyKind | 'custom';

export interface ClientCertificatePolicy {
  /** Where the certificate is seen: this process's TLS socket, or headers set by a trusted proxy. */
  source: CertificateSource;
  /** For `source: 'custom'`: which header carries what. */
  customHeaders?: CustomHeaderMap;
  /** Trusted CAs (PEM). The chain is checked whenever the certificate itself is available. */
  caBundlePem?: string;
  /** Intermediates allowed between the certificate and a trusted CA (nginx's ssl_verify_depth). Default 2. */
  maxDepth?: number;
  /** Expected subject DN(s), RFC 4514; compared structurally. Any one matching is enough. */
  subject?: string | string[];
  /** Expected DNS names; the certificate must carry one (SAN; CN only without a SAN extension). */
  dnsNames?: string[];
  /** Fingerprints: hex SHA-256 or SHA-1 of the certificate, or base64 SPKI SHA-256. Any one matching. */
  pins?: string[];
  /** Require the clientAuth extended key usage when the certificate is available. Default true. */
  requireClientAuth?: boolean;
  /**
   * For `source: 'envoy'`: how many elements `x-forwarded-client-cert` holds when it arrives. The
   * edge Envoy (SANITIZE_SET) writes the first, describing the platform's certificate; each Envoy
   * after it (APPEND_FORWARD) appends one. Any other count is refused. Default 1.
   */
  xfccElements?: number;
}

export interface SignaturePolicy {
  /** `whsec_` secrets; several while rotating. */
  secrets?: string[];
  /** `whpk_` Ed25519 public keys. */
  publicKeys?: string[];
  /** Default 300 s. */
  toleranceSeconds?: number;
  /** Accept a `webhook-id` holding a `.` (default false; see createSignatureChecker). */
  allowDotsInId?: boolean;
}

export interface ReplayPolicy {
  store?: ReplayStore;
  /** For the default in-memory store. */
  maxEntries?: number;
}

export interface VerifyPolicy {
  /** Require TLS: on the socket, or as stated by a trusted proxy's X-Forwarded-Proto / Forwarded proto. */
  https?: boolean;
  clientCertificate?: ClientCertificatePolicy;
  /** CIDRs of the proxies in front of this app: the only peers whose forwarding headers count. */
  trustedProxies?: string[];
  /** Which header a trusted proxy uses to name the client. Default `x-forwarded-for`. */
  forwardedHeader?: ForwardedHeader;
  /** Allowed client CIDRs (IPv4 and IPv6). `[]` with a trust document: its egress CIDRs. */
  ipAllowlist?: string[];
  /** `{}` with a trust document: its signing public keys. */
  signature?: SignaturePolicy;
  /** Refuse a signed message seen before. Needs `signature`. */
  replay?: boolean | ReplayPolicy;
  /** The platform's trust document (URL or options): CA bundle, pins, egress CIDRs, signing keys. */
  trustDocument?: string | TrustDocumentOptions;
  /** Milliseconds since the epoch, like Date.now (the default). */
  now?: () => number;
}

export interface CompiledPolicy {
  https: boolean;
  trustedProxies: IpSet;
  forwardedHeader: ForwardedHeader;
  clientCertificate?: {
    source: CertificateSource;
    parser?: ProxyHeaderParser;
    anchors: X509Certificate[];
    maxDepth: number;
    subjects: Rdn[][];
    dnsNames: string[];
    pins: Pin[];
    requireClientAuth: boolean;
  };
  ipAllowlist?: IpSet;
  signature?: {
    secrets: string[];
    publicKeys: string[];
    toleranceSeconds: number;
    allowDotsInId: boolean;
    check?: ReturnType<typeof createSignatureChecker>;
  };
  replay?: ReplayStore;
  trust?: TrustSource;
  now: () => number;
}

const KNOWN = [
  'https',
  'clientCertificate',
  'trustedProxies',
  'forwardedHeader',
  'ipAllowlist',
  'signature',
  'replay',
  'trustDocument',
  'now',
];
const CERT_KNOWN = [
  'source',
  'customHeaders',
  'caBundlePem',
  'maxDepth',
  'subject',
  'dnsNames',
  'pins',
  'requireClientAuth',
  'xfccElements',
];
/** Proxy kinds that never state whether they verified the certificate. */
const SILENT_KINDS: readonly CertificateSource[] = ['caddy', 'envoy', 'traefik', 'rfc9440'];

function unknownKeys(obj: object, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw new PolicyError(`${prefix}${key}`, 'is not a policy field');
  }
}

function stringArray(v: unknown, field: string, allowEmpty = false): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    throw new PolicyError(field, 'must be an array of strings');
  if (!allowEmpty && v.length === 0) throw new PolicyError(field, 'must not be empty');
  return v as string[];
}

export function compilePolicy(policy: VerifyPolicy): CompiledPolicy {
  if (typeof policy !== 'object' || policy === null) throw new PolicyError('policy', 'must be an object');
  unknownKeys(policy, KNOWN, '');
  const now = policy.now ?? Date.now;
  if (typeof now !== 'function') throw new PolicyError('now', 'must be a function returning milliseconds');
  if (policy.https !== undefined && typeof policy.https !== 'boolean')
    throw new PolicyError('https', 'must be a boolean');

  const trustedProxies = IpSet.parse(
    policy.trustedProxies === undefined ? [] : stringArray(policy.trustedProxies, 'trustedProxies'),
    (i, problem) => new PolicyError(`trustedProxies[${i}]`, problem),
  );
  const everyone = trustedProxies.cidrs.findIndex((c) => c.prefix === 0);
  if (everyone >= 0) {
    throw new PolicyError(`trustedProxies[${everyone}]`, 'trusts every address: anyone could then forge proxy headers');
  }
  const forwardedHeader = policy.forwardedHeader ?? 'x-forwarded-for';
  if (forwardedHeader !== 'x-forwarded-for' && forwardedHeader !== 'forwarded') {
    throw new PolicyError('forwardedHeader', 'must be "x-forwarded-for" or "forwarded"');
  }
  const hasDocument = policy.trustDocument !== undefined;
  const trust = hasDocument ? createTrustDocumentSource(policy.trustDocument!, now) : undefined;

  const compiled: CompiledPolicy = { https: policy.https === true, trustedProxies, forwardedHeader, now };
  if (trust) compiled.trust = trust;

  if (policy.clientCertificate !== undefined) {
    compiled.clientCertificate = compileClientCertificate(policy.clientCertificate, trustedProxies, hasDocument);
  }
  if (policy.ipAllowlist !== undefined) {
    const list = stringArray(policy.ipAllowlist, 'ipAllowlist', hasDocument);
    compiled.ipAllowlist = IpSet.parse(list, (i, problem) => new PolicyError(`ipAllowlist[${i}]`, problem));
  }
  if (policy.signature !== undefined) compiled.signature = compileSignature(policy.signature, now, hasDocument);
  if (policy.replay !== undefined && policy.replay !== false) {
    if (!compiled.signature) throw new PolicyError('replay', 'needs signature: without it the id is not authenticated');
    const r = policy.replay === true ? {} : policy.replay;
    if (typeof r !== 'object' || r === null) throw new PolicyError('replay', 'must be true or an object');
    unknownKeys(r, ['store', 'maxEntries'], 'replay.');
    if (r.store !== undefined && typeof r.store?.remember !== 'function') {
      throw new PolicyError('replay.store', 'must have a remember(key, expiresAtMs) method');
    }
    compiled.replay =
      r.store ?? new MemoryReplayStore({ now, ...(r.maxEntries === undefined ? {} : { maxEntries: r.maxEntries }) });
  }

  if (!compiled.https && !compiled.clientCertificate && !compiled.ipAllowlist && !compiled.signature) {
    throw new PolicyError(
      'policy',
      hasDocument
        ? 'trustDocument only supplies values: also enable clientCertificate, ipAllowlist ([]) or signature ({})'
        : 'configures no check: set at least one of https, clientCertificate, ipAllowlist, signature',
    );
  }
  return compiled;
}

function compileClientCertificate(
  c: ClientCertificatePolicy,
  trustedProxies: IpSet,
  hasDocument: boolean,
): NonNullable<CompiledPolicy['clientCertificate']> {
  const f = 'clientCertificate';
  if (typeof c !== 'object' || c === null) throw new PolicyError(f, 'must be an object');
  unknownKeys(c, CERT_KNOWN, `${f}.`);
  const { source } = c;
  let parser: ProxyHeaderParser | undefined;
  if (source === 'custom') {
    if (c.customHeaders === undefined) throw new PolicyError(`${f}.customHeaders`, 'is required for source "custom"');
    parser = customParser(c.customHeaders, `${f}.customHeaders`);
  } else if (source !== 'socket') {
    if (typeof source !== 'string' || !Object.hasOwn(PROXY_PARSERS, source)) {
      throw new PolicyError(`${f}.source`, `must be socket, custom or one of ${Object.keys(PROXY_PARSERS).join(', ')}`);
    }
    parser =
      source === 'envoy'
        ? envoyParser(xfccElements(c.xfccElements, `${f}.xfccElements`))
        : PROXY_PARSERS[source as ProxyKind];
  }
  if (c.xfccElements !== undefined && source !== 'envoy')
    throw new PolicyError(`${f}.xfccElements`, 'is only for source "envoy"');
  if (c.customHeaders !== undefined && source !== 'custom') {
    throw new PolicyError(`${f}.customHeaders`, 'is only for source "custom"');
  }
  if (parser && trustedProxies.cidrs.length === 0) {
    throw new PolicyError(
      'trustedProxies',
      `is required with ${f}.source "${source}": proxy headers are believed only from them`,
    );
  }
  const anchors = c.caBundlePem === undefined ? [] : parsePemBundle(c.caBundlePem, `${f}.caBundlePem`);
  const maxDepth = c.maxDepth ?? 2;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 0 || maxDepth > 8) {
    throw new PolicyError(`${f}.maxDepth`, 'must be an integer from 0 to 8');
  }
  const subjectList = c.subject === undefined ? [] : typeof c.subject === 'string' ? [c.subject] : c.subject;
  const subjects = stringArray(subjectList, `${f}.subject`, true).map((s, i) => {
    const field = `${f}.subject${typeof c.subject === 'string' ? '' : `[${i}]`}`;
    // parseDn('') is the empty DN, which would admit exactly the certificates with an empty subject:
    // a blank value is far more likely an unset variable than that intent.
    const empty = () => new PolicyError(field, 'must not be empty: name the expected subject DN');
    if (s.trim() === '') throw empty();
    let rdns: Rdn[];
    try {
      rdns = parseDn(s);
    } catch (err) {
      throw new PolicyError(field, (err as Error).message);
    }
    if (rdns.length === 0) throw empty();
    return rdns;
  });
  const dnsNames = c.dnsNames === undefined ? [] : stringArray(c.dnsNames, `${f}.dnsNames`);
  dnsNames.forEach((n, i) => {
    if (!/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/i.test(n) || n.length > 253) {
      throw new PolicyError(`${f}.dnsNames[${i}]`, 'must be a host name (no wildcards)');
    }
  });
  const pins = (c.pins === undefined ? [] : stringArray(c.pins, `${f}.pins`)).map((p, i) =>
    parsePin(p, `${f}.pins[${i}]`),
  );
  if (c.requireClientAuth !== undefined && typeof c.requireClientAuth !== 'boolean') {
    throw new PolicyError(`${f}.requireClientAuth`, 'must be a boolean');
  }
  if (SILENT_KINDS.includes(source) && anchors.length === 0 && pins.length === 0 && !hasDocument) {
    throw new PolicyError(
      `${f}.caBundlePem`,
      `is required with source "${source}" (or set pins): this proxy does not say whether it verified the certificate`,
    );
  }
  if (
    source === 'custom' &&
    c.customHeaders?.verify === undefined &&
    anchors.length === 0 &&
    pins.length === 0 &&
    !hasDocument
  ) {
    throw new PolicyError(
      `${f}.caBundlePem`,
      'is required (or pins, or customHeaders.verify): nothing else vouches for the certificate',
    );
  }
  return {
    source,
    ...(parser ? { parser } : {}),
    anchors,
    maxDepth,
    subjects,
    dnsNames: dnsNames.map((n) => n.toLowerCase()),
    pins,
    requireClientAuth: c.requireClientAuth ?? true,
  };
}

function xfccElements(n: unknown, field: string): number {
  if (n === undefined) return 1;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_XFCC_ELEMENTS) {
    throw new PolicyError(field, `must be an integer from 1 to ${MAX_XFCC_ELEMENTS}: 1 + the Envoys after the edge`);
  }
  return n;
}

function compileSignature(
  s: SignaturePolicy,
  now: () => number,
  hasDocument: boolean,
): NonNullable<CompiledPolicy['signature']> {
  if (typeof s !== 'object' || s === null) throw new PolicyError('signature', 'must be an object');
  unknownKeys(s, ['secrets', 'publicKeys', 'toleranceSeconds', 'allowDotsInId'], 'signature.');
  const allowDotsInId = s.allowDotsInId ?? false;
  if (typeof allowDotsInId !== 'boolean') throw new PolicyError('signature.allowDotsInId', 'must be a boolean');
  const secrets = s.secrets === undefined ? [] : stringArray(s.secrets, 'signature.secrets', true);
  const publicKeys = s.publicKeys === undefined ? [] : stringArray(s.publicKeys, 'signature.publicKeys', true);
  const toleranceSeconds = s.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  for (const [i, secret] of secrets.entries()) hmacKey(secret, `signature.secrets[${i}]`);
  if (secrets.length + publicKeys.length === 0) {
    if (!hasDocument) throw new PolicyError('signature.secrets', 'at least one secret or public key is required');
    if (!Number.isFinite(toleranceSeconds) || toleranceSeconds <= 0) {
      throw new PolicyError('signature.toleranceSeconds', 'must be a positive number of seconds');
    }
    return { secrets, publicKeys, toleranceSeconds, allowDotsInId };
  }
  // Built now so bad keys fail at creation; rebuilt with the document's keys when they arrive.
  const check = createSignatureChecker({ secrets, publicKeys, toleranceSeconds, allowDotsInId, now }, 'signature.');
  return { secrets, publicKeys, toleranceSeconds, allowDotsInId, check };
}
