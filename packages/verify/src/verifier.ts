/**
 * The receiver core: one framework-free `verify()` over a neutral request. Adapters only translate
 * their framework's request into a VerifyRequest and a VerificationError into a response.
 */
import type { X509Certificate } from 'node:crypto';
import { parseJsonBody } from './body.ts';
import {
  checkValidity,
  clientUsageProblem,
  dnsNameMatches,
  dnsNamesOf,
  fingerprintsOf,
  type KnownFingerprints,
  type Pin,
  parseCertificate,
  pinMatches,
} from './certificate.ts';
import { ChainCache } from './chain-cache.ts';
import { dnEquals, dnFromX509, formatDn, getAttribute, parseDn, type Rdn } from './dn.ts';
import { HookwardenError, SETUP_CODES, VerificationError } from './errors.ts';
import { type ClientAddress, resolveClientAddress } from './forwarded.ts';
import type { IpSet } from './ip.ts';
import { type CompiledPolicy, compilePolicy, type VerifyPolicy } from './policy.ts';
import type { ProxyCertFacts, ProxyKind } from './proxy-headers/index.ts';
import { acceptedUntilMs, createSignatureChecker, type Headers, type SignedMessage } from './signature.ts';
import type { TrustMaterial } from './trust-document.ts';

export interface VerifyRequest {
  method: string;
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: Headers;
  /**
   * The raw body, or a function reading it: then it is called only when a check needs the body (a
   * signature), after every check that does not, so a refused sender's body is never read.
   */
  body: Uint8Array | (() => Promise<Uint8Array>);
  /** The socket peer. */
  remoteAddress: string;
  /** When TLS ends in this process (see tlsFactsFromSocket). */
  tls?: {
    encrypted: true;
    authorized: boolean;
    authorizationError?: string;
    /** PEM, leaf first; [] when the client sent none. */
    peerCertificates: string[];
    protocol?: string;
    cipher?: string;
  };
}

export type Check = 'https' | 'client-certificate' | 'ip-allowlist' | 'signature' | 'replay';

export interface VerifiedIdentity {
  /** RFC 4514. */
  subject: string;
  dnsNames: string[];
  /** Lower-case hex SHA-256 of the certificate; '' when the proxy passed neither it nor its SHA-256. */
  fingerprintSha256: string;
  source: 'socket' | ProxyKind | 'custom';
}

export interface VerifiedFacts {
  checks: Check[];
  identity?: VerifiedIdentity;
  clientIp: string;
  webhookId?: string;
  timestamp?: number;
}

/**
 * What `verify()` hands back: the facts, and the body as the event it carries (what
 * `Webhook.verify` returns). `payload` is parsed from the verified bytes on first read (then kept)
 * and throws HW_BODY_NOT_JSON when they are not UTF-8 JSON. It is not enumerable: spreading, logging
 * or serialising the facts (the gate sends them in a header) leaves the body out, and a caller that
 * never reads it never pays for the parse.
 */
export type Verified<TPayload = unknown> = VerifiedFacts & { readonly payload: TPayload };

/** `TPayload` types the events a route receives; nothing checks their shape at run time. */
export interface Verifier<TPayload = unknown> {
  verify(req: VerifyRequest): Promise<Verified<TPayload>>;
  /** The validated policy's trust document, if any (to warm it up at startup: `await refresh()`). */
  readonly trustDocument?: { refresh(): Promise<boolean>; readonly lastError: string | undefined };
}

interface SubjectFacts {
  rdns: Rdn[];
  /** RFC 4514. */
  text: string;
  /** Whether it equals one of the policy's subjects. */
  expected: boolean;
}

const SUBJECT_MEMO_SIZE = 256;

export function createVerifier<TPayload = unknown>(policy: VerifyPolicy): Verifier<TPayload> {
  const p = compilePolicy(policy);
  // Signature checkers built from the trust document, per document copy.
  const documentCheckers = new WeakMap<TrustMaterial, ReturnType<typeof createSignatureChecker>>();
  // Chain checks per certificate, CA bundle and depth: a keep-alive stream repeats one certificate.
  const chains = new ChainCache();

  async function verify(req: VerifyRequest): Promise<Verified<TPayload>> {
    const checks: Check[] = [];
    const client = resolveClientAddress(req.remoteAddress, req.headers, p.trustedProxies, p.forwardedHeader);
    const cc = p.clientCertificate;
    if (cc?.parser) {
      // Proxy headers count only from a trusted proxy. From anyone else they are an attack (or a
      // proxy that forgot to clear inbound copies): refused, never ignored.
      if (!client.viaTrustedProxy) {
        const spoofed = cc.parser.headers.find((h) => req.headers[h] !== undefined);
        throw new VerificationError(
          'HW_PROXY_UNTRUSTED',
          spoofed
            ? `${spoofed} came from ${client.ip}, which is not a trusted proxy`
            : `the request came from ${client.ip}, not through a trusted proxy`,
        );
      }
    }
    const material = p.trust ? await p.trust.material() : undefined;

    if (p.https) {
      const secure = client.viaTrustedProxy ? client.proto === 'https' : req.tls?.encrypted === true;
      if (!secure) throw new VerificationError('HW_HTTPS_REQUIRED');
      checks.push('https');
    }
    if (p.ipAllowlist) {
      if (!allowed(client, p.ipAllowlist, material?.egress)) {
        throw new VerificationError('HW_IP_DENIED', `${client.ip} is not in the allowlist`);
      }
      checks.push('ip-allowlist');
    }
    let identity: VerifiedIdentity | undefined;
    if (cc) {
      identity = cc.parser ? checkProxyCertificate(req, cc, material) : checkSocketCertificate(req, cc, material);
      checks.push('client-certificate');
    }
    let signed: SignedMessage | undefined;
    // Read only once every check that needs no body has passed (a lazy body is read here at most once).
    let body = typeof req.body === 'function' ? undefined : req.body;
    if (p.signature) {
      body ??= await (req.body as () => Promise<Uint8Array>)();
      signed = signatureCheck(material)(req.headers, body);
      checks.push('signature');
    }
    if (p.replay && signed) {
      // Remembered for as long as the timestamp check would accept this message again: the same
      // bound the check uses, so the two cannot drift apart.
      const expiresAt = acceptedUntilMs(signed.timestamp, p.signature!.toleranceSeconds);
      if (!(await p.replay.remember(`${signed.msgId}.${signed.timestamp}`, expiresAt))) {
        throw new VerificationError(
          'HW_REPLAYED',
          `webhook ${signed.msgId} at ${signed.timestamp} was already accepted`,
        );
      }
      checks.push('replay');
    }
    const facts: VerifiedFacts = {
      checks,
      ...(identity ? { identity } : {}),
      clientIp: client.ip,
      ...(signed ? { webhookId: signed.msgId, timestamp: signed.timestamp } : {}),
    };
    // A lazy body no check needed stays unread (the gate streams it on): it has no payload to parse.
    return withPayload<TPayload>(facts, body);
  }

  function signatureCheck(material: TrustMaterial | undefined) {
    const s = p.signature!;
    if (!material || material.publicKeys.length === 0) {
      if (s.check) return s.check;
      throw new VerificationError('HW_TRUST_DOCUMENT_UNAVAILABLE', 'the trust document lists no signing key');
    }
    let check = documentCheckers.get(material);
    if (!check) {
      check = createSignatureChecker({
        secrets: s.secrets,
        publicKeys: [...s.publicKeys, ...material.publicKeys],
        toleranceSeconds: s.toleranceSeconds,
        allowDotsInId: s.allowDotsInId,
        now: p.now,
      });
      documentCheckers.set(material, check);
    }
    return check;
  }

  function checkSocketCertificate(
    req: VerifyRequest,
    cc: NonNullable<CompiledPolicy['clientCertificate']>,
    material: TrustMaterial | undefined,
  ): VerifiedIdentity {
    const tls = req.tls;
    if (!tls?.encrypted) throw new VerificationError('HW_CERT_MISSING', 'the connection is not TLS');
    if (tls.peerCertificates.length === 0) throw new VerificationError('HW_CERT_MISSING');
    const [leaf, ...chain] = tls.peerCertificates.map((pem) => parseCertificate(pem));
    const anchors = anchorsOf(cc.anchors, material);
    const nowMs = p.now();
    if (anchors.length > 0) {
      chains.verify(leaf!, chain, anchors, cc.maxDepth, nowMs);
      // OpenSSL's verdict against the server's `ca` as well: two independent checks must both pass,
      // so a gap in either (a constraint one of them does not apply) is not a way in.
      if (cc.anchors.length > 0 && !tls.authorized) {
        throw new VerificationError(
          'HW_CERT_UNTRUSTED',
          `the TLS stack did not verify it${tls.authorizationError ? `: ${tls.authorizationError}` : ''}`,
        );
      }
    } else {
      // No bundle of our own: the TLS stack verified against the server's `ca`; we add the depth.
      if (!tls.authorized) {
        throw new VerificationError('HW_CERT_UNTRUSTED', tls.authorizationError ?? 'the TLS stack did not verify it');
      }
      checkValidity(leaf!, nowMs);
      const last = chain.at(-1);
      const intermediates = chain.length - (last && last.subject === last.issuer ? 1 : 0);
      if (intermediates > cc.maxDepth) {
        throw new VerificationError(
          'HW_CERT_UNTRUSTED',
          `the chain has ${intermediates} intermediates; at most ${cc.maxDepth}`,
        );
      }
    }
    return checkIdentity(leaf!, undefined, {}, cc, material, 'socket');
  }

  function checkProxyCertificate(
    req: VerifyRequest,
    cc: NonNullable<CompiledPolicy['clientCertificate']>,
    material: TrustMaterial | undefined,
  ): VerifiedIdentity {
    const facts = cc.parser!.parse(req.headers);
    if (!facts) throw new VerificationError('HW_CERT_MISSING', 'the proxy passed no client certificate');
    if (facts.verified === false) {
      throw new VerificationError('HW_CERT_UNTRUSTED', `the proxy did not verify the certificate: ${facts.failure}`);
    }
    const anchors = anchorsOf(cc.anchors, material);
    const nowMs = p.now();
    let chained = false;
    if (facts.cert) {
      crossCheck(facts);
      checkValidity(facts.cert, nowMs);
      if (anchors.length > 0) {
        chains.verify(facts.cert, facts.chain, anchors, cc.maxDepth, nowMs);
        chained = true;
      }
    }
    const pinned = pinsOf(cc.pins, material);
    // Someone must vouch for the certificate: the proxy's verification, our chain check, or a pin
    // (checked in checkIdentity). A proxy that says nothing and passes no certificate is not enough.
    if (facts.verified !== true && !chained && pinned.length === 0) {
      throw new VerificationError(
        'HW_CERT_UNTRUSTED',
        anchors.length > 0
          ? 'the proxy passed neither a verification result nor the certificate to check'
          : 'the proxy does not say it verified the certificate and no CA bundle or pin is configured',
      );
    }
    return checkIdentity(facts.cert, facts, facts.fingerprints, cc, material, cc.source as ProxyKind);
  }

  /**
   * The platform presents the same subject on every request, and parsing plus comparing a DN costs
   * several times the HMAC of a 2 KiB body (bench/verify.ts): remember the outcome per subject
   * text or certificate. Bounded; cleared when full rather than tracking recency.
   */
  const subjects = new Map<string, SubjectFacts>();
  function subjectOf(
    cert: X509Certificate | undefined,
    fingerprints: KnownFingerprints,
    headerText: string | undefined,
    cc: NonNullable<CompiledPolicy['clientCertificate']>,
  ): SubjectFacts | undefined {
    const key = cert ? `c:${fingerprints.sha256Hex}` : headerText === undefined ? undefined : `h:${headerText}`;
    if (key === undefined) return undefined;
    let found = subjects.get(key);
    if (!found) {
      let rdns: Rdn[];
      if (cert) rdns = dnFromX509(cert);
      else {
        try {
          rdns = parseDn(headerText!);
        } catch {
          throw new VerificationError('HW_PROXY_HEADER_INVALID', 'the proxy subject DN is not RFC 4514');
        }
      }
      found = { rdns, text: formatDn(rdns), expected: cc.subjects.some((s) => dnEquals(s, rdns)) };
      if (subjects.size >= SUBJECT_MEMO_SIZE) subjects.clear();
      subjects.set(key, found);
    }
    return found;
  }

  function checkIdentity(
    cert: X509Certificate | undefined,
    facts: ProxyCertFacts | undefined,
    stated: KnownFingerprints,
    cc: NonNullable<CompiledPolicy['clientCertificate']>,
    material: TrustMaterial | undefined,
    source: VerifiedIdentity['source'],
  ): VerifiedIdentity {
    const usage = cert && clientUsageProblem(cert, cc.requireClientAuth);
    if (usage)
      throw new VerificationError('HW_CERT_USAGE', `the client certificate is not for client authentication: ${usage}`);
    const fingerprints: KnownFingerprints = cert ? fingerprintsOf(cert) : stated;
    const pins = pinsOf(cc.pins, material);
    if (pins.length > 0 && !pinMatches(pins, fingerprints)) {
      const kinds = Object.keys(fingerprints).join(', ') || 'no fingerprint';
      throw new VerificationError(
        'HW_PIN_MISMATCH',
        cert ? undefined : `the proxy passed ${kinds}; pin that kind or pass the certificate`,
      );
    }
    const subject = subjectOf(cert, fingerprints, facts?.subject, cc);
    const rdns = subject?.rdns;
    if (cc.subjects.length > 0) {
      if (!subject) throw new VerificationError('HW_SUBJECT_MISMATCH', 'the proxy passed no subject DN');
      if (!subject.expected) {
        throw new VerificationError('HW_SUBJECT_MISMATCH', `subject ${JSON.stringify(subject.text)} is not expected`);
      }
    }
    const names = cert ? dnsNamesOf(cert) : (facts?.dnsNames ?? []);
    if (cc.dnsNames.length > 0) {
      // The CN counts only when the certificate has no subjectAltName at all (RFC 6125), and only
      // when there is exactly one: with several (a multi-valued RDN) which one names the host is
      // ambiguous, the shape of CVE-2021-44533.
      const cns = cert && cert.subjectAltName === undefined && rdns ? getAttribute(rdns, 'CN') : undefined;
      const candidates = cns === undefined ? names : cns.length === 1 ? cns : [];
      if (!cc.dnsNames.some((want) => candidates.some((n) => dnsNameMatches(n, want)))) {
        throw new VerificationError(
          'HW_SAN_MISMATCH',
          !cert && !facts?.dnsNames ? 'the proxy passes neither the certificate nor its DNS names' : undefined,
        );
      }
    }
    return {
      subject: subject?.text ?? '',
      dnsNames: names,
      fingerprintSha256: fingerprints.sha256Hex ?? '',
      source,
    };
  }

  return p.trust ? { verify, trustDocument: p.trust } : { verify };
}

function withPayload<TPayload>(facts: VerifiedFacts, body: Uint8Array | undefined): Verified<TPayload> {
  let parsed: { value: TPayload } | undefined;
  return Object.defineProperty(facts, 'payload', {
    enumerable: false,
    get: () => {
      if (body === undefined)
        throw new HookwardenError('HW_BODY_NOT_READ', SETUP_CODES.HW_BODY_NOT_READ.message, {
          status: SETUP_CODES.HW_BODY_NOT_READ.status,
        });
      parsed ??= { value: parseJsonBody(body) as TPayload };
      return parsed.value;
    },
  }) as Verified<TPayload>;
}

function anchorsOf(own: X509Certificate[], material: TrustMaterial | undefined): X509Certificate[] {
  return material ? [...own, ...material.anchors] : own;
}

function pinsOf(own: Pin[], material: TrustMaterial | undefined): Pin[] {
  return material ? [...own, ...material.pins] : own;
}

function allowed(client: ClientAddress, list: IpSet, egress: IpSet | undefined): boolean {
  return list.has(client.ip) || (egress?.has(client.ip) ?? false);
}

/** A proxy that passes both the certificate and its fingerprint must agree with itself. */
function crossCheck(facts: ProxyCertFacts): void {
  const cert = facts.cert!;
  const { sha256Hex, sha1Hex } = facts.fingerprints;
  if (!sha256Hex && !sha1Hex) return;
  const real = fingerprintsOf(cert);
  if ((sha256Hex && sha256Hex !== real.sha256Hex) || (sha1Hex && sha1Hex !== real.sha1Hex)) {
    throw new VerificationError(
      'HW_PROXY_HEADER_INVALID',
      'the proxy fingerprint header does not match its certificate header',
    );
  }
}
