import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { sign } from '@hookwarden/verify/signature';
import { DEFAULT_CIPHER_POLICY } from '../delivery/ciphers.ts';
import { bareHostname } from '../delivery/ssrf.ts';
import { CHECK_ERROR_CODES, CheckError } from './errors.ts';
import type { CheckOptions } from './types.ts';

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_CONCURRENCY = 8;
/** One probe never waits longer than this, so a silent server leaves time for the rest. */
export const PROBE_TIMEOUT_MS = 5_000;

function invalid(field: string, why: string): CheckError {
  return new CheckError(CHECK_ERROR_CODES.optionsInvalid, `${field} ${why}`);
}

function assertPem(field: string, pem: unknown, label: string): void {
  if (typeof pem !== 'string' || !pem.includes(`-----BEGIN ${label}`)) throw invalid(field, `must be a PEM ${label}`);
}

function assertCertificates(field: string, pem: unknown): void {
  assertPem(field, pem, 'CERTIFICATE');
  for (const block of (pem as string).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    try {
      new X509Certificate(block);
    } catch {
      throw invalid(field, 'holds a certificate that does not parse');
    }
  }
}

export interface ResolvedOptions extends CheckOptions {
  parsed: URL;
  host: string;
  port: number;
  timeoutMs: number;
  concurrency: number;
  now: () => number;
}

/** Checks every option once, naming the bad field; the URL's scheme is judged by the check itself. */
export function resolveOptions(opts: CheckOptions): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') throw invalid('options', 'must be an object');
  if (typeof opts.url !== 'string') throw new CheckError(CHECK_ERROR_CODES.urlInvalid, 'url must be a string');
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new CheckError(CHECK_ERROR_CODES.urlInvalid, `url '${opts.url.slice(0, 200)}' is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new CheckError(CHECK_ERROR_CODES.urlInvalid, `url scheme '${parsed.protocol}' is not https:`);
  }
  if (parsed.hostname === '') throw new CheckError(CHECK_ERROR_CODES.urlInvalid, 'url has no host');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 100 || timeoutMs > 300_000) {
    throw invalid('timeoutMs', 'must be between 100 and 300000');
  }
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw invalid('concurrency', 'must be an integer from 1 to 64');
  }
  if (opts.clientIdentity !== undefined) {
    assertCertificates('clientIdentity.certPem', opts.clientIdentity.certPem);
    assertPem('clientIdentity.keyPem', opts.clientIdentity.keyPem, '');
    if (opts.clientIdentity.chainPem) assertCertificates('clientIdentity.chainPem', opts.clientIdentity.chainPem);
  }
  if (opts.platformCaPem !== undefined) assertCertificates('platformCaPem', opts.platformCaPem);
  if (opts.serverCaPem !== undefined) assertCertificates('serverCaPem', opts.serverCaPem);
  const policy = opts.cipherPolicy ?? DEFAULT_CIPHER_POLICY;
  if (!Array.isArray(policy.ciphers) || !Array.isArray(policy.tls13Suites)) {
    throw invalid('cipherPolicy', 'must list ciphers and tls13Suites');
  }
  if (opts.testEventSecret !== undefined) {
    try {
      sign({ msgId: 'msg_check', timestamp: 0, body: '', secrets: [opts.testEventSecret] });
    } catch {
      // The signer's message could quote the secret; never repeat it.
      throw invalid('testEventSecret', 'must be a whsec_ or whsk_ secret');
    }
  }
  for (const fn of ['sendTestEvent', 'lookup', 'now'] as const) {
    if (opts[fn] !== undefined && typeof opts[fn] !== 'function') throw invalid(fn, 'must be a function');
  }
  const host = bareHostname(parsed.hostname);
  const defaultPort = parsed.protocol === 'https:' ? 443 : 80;
  return {
    ...opts,
    cipherPolicy: policy,
    parsed,
    host: isIP(host) ? host : host.toLowerCase(),
    port: parsed.port ? Number(parsed.port) : defaultPort,
    timeoutMs,
    concurrency,
    now: opts.now ?? Date.now,
  };
}
