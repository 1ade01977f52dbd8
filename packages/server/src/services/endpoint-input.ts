import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { generateSecret, hmacKey } from '@hookwarden/verify/signature';
import type { CipherPolicy } from '../delivery/ciphers.ts';
import type { EndpointRow } from '../store/types.ts';
import { eventTypesOf, invalidField, throttleOf } from './context.ts';

/** The endpoint body as the schema admits it (Svix EndpointIn plus our extensions). */
export interface EndpointBody {
  url?: string;
  uid?: string | null;
  description?: string;
  disabled?: boolean;
  filterTypes?: string[] | null;
  eventTypes?: string[] | null;
  channels?: string[] | null;
  metadata?: Record<string, string>;
  headers?: Record<string, string> | null;
  rateLimit?: number | null;
  throttleRate?: number | null;
  secret?: string | null;
  version?: number | null;
  serverCa?: string | null;
  clientIdentity?: { certPem: string; keyPem: string; chainPem?: string } | null;
  signatureScheme?: 'v1' | 'v1a';
  allowHttp?: boolean;
  tlsPolicy?: Partial<CipherPolicy> | null;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each certificate of a PEM bundle must parse: a typo here would otherwise surface as failed deliveries. */
export function checkServerCa(pem: string): string {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw invalidField(['body', 'serverCa'], 'holds no PEM certificate');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw invalidField(['body', 'serverCa'], 'holds a certificate that does not parse');
    }
  }
  return blocks.join('\n') + '\n';
}

export function checkClientIdentity(id: { certPem: string; keyPem: string; chainPem?: string }): {
  certPem: string;
  keyPem: string;
} {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(id.certPem);
  } catch {
    throw invalidField(['body', 'clientIdentity', 'certPem'], 'is not a PEM certificate');
  }
  let matches = false;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(id.keyPem));
  } catch {
    throw invalidField(['body', 'clientIdentity', 'keyPem'], 'is not a PEM private key');
  }
  if (!matches) throw invalidField(['body', 'clientIdentity', 'keyPem'], 'does not belong to certPem');
  // The chain presented is leaf + intermediates; store it as one PEM so the dispatcher has it whole.
  const chain = id.chainPem ? chainBlocks(id.chainPem) : [];
  const leaf = (id.certPem.match(PEM_CERT) ?? [id.certPem])[0] as string;
  const rest = chain.filter((c) => c.replace(/\s/g, '') !== leaf.replace(/\s/g, ''));
  const certPem = [leaf, ...rest].join('\n') + '\n';
  checkUsable(leaf, certPem, id.keyPem, rest.length > 0);
  return { certPem, keyPem: id.keyPem };
}

/**
 * The certificates of `chainPem`, each of which must parse: the dispatcher hands the whole chain to
 * OpenSSL on every attempt, so one corrupt block would fail every delivery instead of this request.
 */
function chainBlocks(pem: string): string[] {
  const loc = ['body', 'clientIdentity', 'chainPem'];
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw invalidField(loc, 'holds no PEM certificate');
  // A block of another kind (a key pasted in the wrong field) or one cut short would be dropped.
  if ((pem.match(/-----BEGIN /g) ?? []).length !== blocks.length) {
    throw invalidField(loc, 'holds a PEM block that is not a whole certificate');
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch {
      throw invalidField(loc, `certificate ${i + 1} does not parse`);
    }
  });
  return blocks;
}

/**
 * What the dispatcher builds on every attempt must build now. When leaf + chain fail, the leaf is
 * tried alone, so the answer names the field at fault (a key OpenSSL refuses is the leaf's doing).
 */
function checkUsable(leaf: string, certPem: string, keyPem: string, hasChain: boolean): void {
  const whole = secureContextError(certPem, keyPem);
  if (whole === undefined) return;
  const leafAlone = hasChain ? secureContextError(leaf, keyPem) : whole;
  const field = leafAlone === undefined ? 'chainPem' : 'certPem';
  throw invalidField(['body', 'clientIdentity', field], `cannot be used for TLS: ${leafAlone ?? whole}`);
}

function secureContextError(cert: string, key: string): string | undefined {
  try {
    createSecureContext({ cert, key });
    return undefined;
  } catch (err) {
    return opensslReason(err);
  }
}

/** OpenSSL's reason without its numeric prefix (`error:0A00018F:SSL routines::ee key too small`). */
function opensslReason(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return message.replace(/^error:[0-9A-F]+:[^:]*::?/i, '');
}

const VERSION_ORDER = ['TLSv1.2', 'TLSv1.3'];

export function checkTlsPolicy(p: Partial<CipherPolicy> | null): Partial<CipherPolicy> | null {
  if (p === null || Object.keys(p).length === 0) return null;
  if (p.minVersion && p.maxVersion && VERSION_ORDER.indexOf(p.minVersion) > VERSION_ORDER.indexOf(p.maxVersion)) {
    throw invalidField(['body', 'tlsPolicy', 'minVersion'], 'must not be above maxVersion');
  }
  return p;
}

/** A secret given by the client, normalised to `whsec_` form; or a fresh one. */
export function endpointSecret(given: string | null | undefined, loc: string[]): string {
  if (given === null || given === undefined) return generateSecret();
  const s = given.startsWith('whsec_') ? given : `whsec_${given}`;
  try {
    hmacKey(s);
  } catch (err) {
    throw invalidField(loc, (err as Error).message);
  }
  return s;
}

export function checkUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidField(['body', 'url'], 'is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw invalidField(['body', 'url'], 'must be an https:// URL');
  }
  if (parsed.username || parsed.password) throw invalidField(['body', 'url'], 'must not carry credentials');
  return parsed;
}

/**
 * Applies the body to an endpoint; `replace` (PUT) resets the Svix fields it omits, except a uid
 * that the PUT's path named (`keptUid`): upserting by uid again must find the same endpoint.
 */
export function applyEndpointBody(e: EndpointRow, b: EndpointBody, replace: boolean, keptUid?: string): EndpointRow {
  const pick = <K extends keyof EndpointBody, V>(
    key: K,
    current: V,
    reset: V,
    map: (v: NonNullable<EndpointBody[K]>) => V,
  ) => {
    const v = b[key];
    if (v === undefined) return replace ? reset : current;
    if (v === null) return reset;
    return map(v as NonNullable<EndpointBody[K]>);
  };
  const rate = throttleOf(b);
  const types = eventTypesOf(b);
  const id = b.clientIdentity;
  const identity = id === undefined ? undefined : id === null ? null : checkClientIdentity(id);
  return {
    ...e,
    url: b.url ?? e.url,
    uid: pick('uid', e.uid, keptUid ?? null, (v) => v),
    description: pick('description', e.description, '', (v) => v),
    disabled: pick('disabled', e.disabled, false, (v) => v),
    filterTypes: types === undefined ? (replace ? null : e.filterTypes) : types,
    channels: pick('channels', e.channels, null, (v) => v),
    metadata: pick('metadata', e.metadata, {}, (v) => v),
    rateLimit: rate === undefined ? (replace ? null : e.rateLimit) : rate,
    version: pick('version', e.version, 1, (v) => v),
    // Extensions keep their value unless named: a Svix SDK's PUT does not know them.
    serverCaPem: b.serverCa === undefined ? e.serverCaPem : b.serverCa === null ? null : checkServerCa(b.serverCa),
    clientCertPem: identity === undefined ? e.clientCertPem : (identity?.certPem ?? null),
    clientKeyPem: identity === undefined ? e.clientKeyPem : (identity?.keyPem ?? null),
    signing: b.signatureScheme === undefined ? e.signing : b.signatureScheme === 'v1a' ? 'ed25519' : 'hmac',
    allowHttp: b.allowHttp ?? e.allowHttp,
    tlsPolicy: b.tlsPolicy === undefined ? e.tlsPolicy : checkTlsPolicy(b.tlsPolicy),
  };
}
