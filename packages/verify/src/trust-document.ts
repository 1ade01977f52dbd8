/**
 * The platform's trust document (`GET /api/v1/trust`): CA bundle, current and next client
 * certificate fingerprints, egress CIDRs and signing public keys, so that pins and allowlists
 * follow rotations. Fetched on first use, refreshed when older than `refreshSeconds` (with ETag),
 * the last good copy kept when a refresh fails. Until one copy was fetched, every check that needs
 * it fails with HW_TRUST_DOCUMENT_UNAVAILABLE: never open.
 */
import type { X509Certificate } from 'node:crypto';
import { collectCapped } from './body.ts';
import { type Pin, parsePemBundle, parsePin } from './certificate.ts';
import { HookwardenError, PolicyError, VerificationError } from './errors.ts';
import { IpSet } from './ip.ts';
import { ed25519PublicKey } from './signature.ts';

export interface TrustDocumentOptions {
  url: string;
  /** Age after which the next verification triggers a background refresh. Default 300 s. */
  refreshSeconds?: number;
  /** Per fetch. Default 5000 ms. */
  timeoutMs?: number;
  /** Injectable for tests and custom agents; defaults to the global fetch. */
  fetch?: typeof fetch;
}

interface CertificateEntry {
  fingerprints: { sha256Hex?: string; sha1Hex?: string; spkiSha256?: string; sha256?: string; sha1?: string };
}

/** The document as the server publishes it (fields we use). */
export interface TrustDocument {
  version: number | string;
  caBundlePem: string;
  certificates: { current: CertificateEntry; next?: CertificateEntry };
  egressCidrs: string[];
  signingPublicKeys: string[];
  cipherPolicy?: unknown;
}

/** The document turned into what the checks consume. */
export interface TrustMaterial {
  version: number | string;
  anchors: X509Certificate[];
  pins: Pin[];
  egress: IpSet;
  publicKeys: string[];
}

export interface TrustSource {
  /** The last good material; waits for the first fetch. Throws VerificationError when none. */
  material(): Promise<TrustMaterial>;
  /** Fetches now (awaitable, for tests and startup). Resolves false when the fetch failed. */
  refresh(): Promise<boolean>;
  /** Why the last fetch failed, if it did. */
  readonly lastError: string | undefined;
}

const MAX_DOCUMENT_BYTES = 1024 * 1024;
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

export function createTrustDocumentSource(input: string | TrustDocumentOptions, now: () => number): TrustSource {
  const options: TrustDocumentOptions = typeof input === 'string' ? { url: input } : input;
  if (typeof options !== 'object' || options === null)
    throw new PolicyError('trustDocument', 'must be a URL or options');
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new PolicyError('trustDocument.url', 'is not a URL');
  }
  // Plain HTTP would let anyone on the path swap the CA bundle; loopback is fine for a local mirror.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname))) {
    throw new PolicyError('trustDocument.url', 'must be https (http only on loopback)');
  }
  const refreshMs = (options.refreshSeconds ?? 300) * 1000;
  if (!Number.isFinite(refreshMs) || refreshMs <= 0)
    throw new PolicyError('trustDocument.refreshSeconds', 'must be positive');
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new PolicyError('trustDocument.timeoutMs', 'must be positive');
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new PolicyError('trustDocument.fetch', 'must be a function');

  let current: TrustMaterial | undefined;
  let etag: string | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<boolean> | undefined;
  let lastError: string | undefined;

  async function load(): Promise<boolean> {
    fetchedAt = now();
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (etag && current) headers['if-none-match'] = etag;
      const res = await doFetch(url, { headers, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
      if (res.status === 304 && current) {
        lastError = undefined;
        return true;
      }
      if (res.status !== 200) throw new Error(`answered ${res.status}`);
      const text = await readCapped(res);
      const material = materialFrom(JSON.parse(text) as unknown);
      current = material;
      etag = res.headers.get('etag') ?? undefined;
      lastError = undefined;
      return true;
    } catch (err) {
      lastError = `trust document ${redactUrl(url)}: ${redactUrls((err as Error).message)}`;
      return false;
    }
  }

  function refresh(): Promise<boolean> {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    get lastError() {
      return lastError;
    },
    refresh,
    async material() {
      // Without a good copy every call retries (one fetch at a time); with one, verification does
      // not wait on the network and refreshes in the background.
      if (!current) await refresh();
      else if (now() - fetchedAt >= refreshMs) void refresh();
      if (!current) {
        throw new VerificationError('HW_TRUST_DOCUMENT_UNAVAILABLE', lastError ?? undefined);
      }
      return current;
    },
  };
}

/**
 * A URL as errors may show it: without userinfo, query or fragment, where a token or password in
 * the configured URL would be. The detail is answered as the 503's detail and logged.
 */
function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search || url.hash ? '?[redacted]' : ''}`;
}

/** Every URL in a message redacted: fetch quotes the URL in some errors (credentials, redirects). */
function redactUrls(message: string): string {
  return message.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (text) => {
    try {
      return redactUrl(new URL(text));
    } catch {
      return '[url redacted]';
    }
  });
}

async function readCapped(res: Response): Promise<string> {
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > MAX_DOCUMENT_BYTES) throw new Error('document too large');
  if (!res.body) return '';
  const body = await collectCapped(res.body, MAX_DOCUMENT_BYTES, () => new Error('document too large'));
  return body.toString('utf8');
}

/**
 * Validates a document; any problem rejects the whole copy (the last good one stays). Throws only
 * HookwardenError HW_TRUST_DOCUMENT_INVALID, whatever the input.
 */
export function materialFrom(doc: unknown): TrustMaterial {
  try {
    return parseDocument(doc);
  } catch (err) {
    throw new HookwardenError('HW_TRUST_DOCUMENT_INVALID', `invalid trust document: ${(err as Error).message}`, {
      status: 502,
    });
  }
}

function parseDocument(doc: unknown): TrustMaterial {
  if (typeof doc !== 'object' || doc === null) throw new Error('document is not an object');
  const d = doc as Partial<TrustDocument>;
  if (typeof d.version !== 'number' && typeof d.version !== 'string') throw new Error('document has no version');
  const anchors = parsePemBundle(d.caBundlePem as string, 'caBundlePem');
  if (typeof d.certificates !== 'object' || d.certificates === null || !d.certificates.current) {
    throw new Error('document has no certificates.current');
  }
  const pins: Pin[] = [];
  for (const which of ['current', 'next'] as const) {
    const entry = d.certificates[which];
    if (entry === undefined) continue;
    const fp = entry?.fingerprints;
    if (typeof fp !== 'object' || fp === null) throw new Error(`certificates.${which} has no fingerprints`);
    for (const value of [fp.sha256Hex ?? fp.sha256, fp.sha1Hex ?? fp.sha1, fp.spkiSha256]) {
      if (value !== undefined) pins.push(parsePin(value, `certificates.${which}.fingerprints`));
    }
  }
  if (!Array.isArray(d.egressCidrs)) throw new Error('document has no egressCidrs');
  const egress = IpSet.parse(d.egressCidrs, (i, p) => new Error(`egressCidrs[${i}] ${p}`));
  if (!Array.isArray(d.signingPublicKeys)) throw new Error('document has no signingPublicKeys');
  for (const [i, k] of d.signingPublicKeys.entries()) ed25519PublicKey(k, `signingPublicKeys[${i}]`);
  return { version: d.version, anchors, pins, egress, publicKeys: [...d.signingPublicKeys] };
}
