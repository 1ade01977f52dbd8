import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { sign } from '@hookwarden/verify/signature';
import { type CipherPolicy, DEFAULT_CIPHER_POLICY, TLS_VERSIONS, type TlsVersion } from '../delivery/ciphers.ts';
import { bareHostname } from '../delivery/ssrf.ts';
import { certificatesFromPem } from './chain.ts';
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
  const blocks = (pem as string).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalid(field, 'must be a PEM CERTIFICATE');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw invalid(field, 'holds a certificate that does not parse');
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The identity must be one OpenSSL can present: otherwise every probe with it fails locally and
 * the report would blame the server (or, when the server asks for nothing, say nothing at all).
 */
function assertIdentity(identity: unknown): void {
  if (!isObject(identity)) throw invalid('clientIdentity', 'must be an object with certPem and keyPem');
  assertCertificates('clientIdentity.certPem', identity.certPem);
  const key = identity.keyPem;
  if (typeof key !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw invalid('clientIdentity.keyPem', 'must be a PEM private key');
  }
  const chain = identity.chainPem;
  if (chain !== undefined && chain !== '') {
    assertCertificates('clientIdentity.chainPem', chain);
    // The chain is what the handshake presents; it must begin with the certificate the key is for.
    const leaf = certificatesFromPem(identity.certPem as string)[0]?.fingerprint256;
    if (certificatesFromPem(chain as string)[0]?.fingerprint256 !== leaf) {
      throw invalid('clientIdentity.chainPem', 'must start with clientIdentity.certPem');
    }
  }
  try {
    createSecureContext({ cert: (chain as string | undefined) || (identity.certPem as string), key });
  } catch (err) {
    const mismatch = (err as NodeJS.ErrnoException).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH';
    throw invalid('clientIdentity.keyPem', mismatch ? 'does not match clientIdentity.certPem' : 'is not usable');
  }
}

function assertSuites(field: string, suites: unknown): void {
  // One name per probe: a colon or space would smuggle several suites into one.
  const ok = Array.isArray(suites) && suites.every((s) => typeof s === 'string' && /^[A-Za-z0-9_+.-]+$/.test(s));
  if (!ok) throw invalid(field, 'must be an array of cipher suite names');
}

function resolvePolicy(value: unknown): CipherPolicy {
  if (value === undefined) return DEFAULT_CIPHER_POLICY;
  if (!isObject(value)) throw invalid('cipherPolicy', 'must be an object');
  const [min, max] = [value.minVersion, value.maxVersion].map((v) => TLS_VERSIONS.indexOf(v as TlsVersion));
  const versions = TLS_VERSIONS.join(', ');
  if (min! < 0) throw invalid('cipherPolicy.minVersion', `must be one of ${versions}`);
  if (max! < 0) throw invalid('cipherPolicy.maxVersion', `must be one of ${versions}`);
  if (min! > max!) throw invalid('cipherPolicy.minVersion', 'must not be above cipherPolicy.maxVersion');
  assertSuites('cipherPolicy.ciphers', value.ciphers);
  assertSuites('cipherPolicy.tls13Suites', value.tls13Suites);
  return value as unknown as CipherPolicy;
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
  if (opts.clientIdentity !== undefined) assertIdentity(opts.clientIdentity);
  if (opts.platformCaPem !== undefined) assertCertificates('platformCaPem', opts.platformCaPem);
  if (opts.serverCaPem !== undefined) assertCertificates('serverCaPem', opts.serverCaPem);
  const policy = resolvePolicy(opts.cipherPolicy);
  if (opts.allowPrivateTargets !== undefined && typeof opts.allowPrivateTargets !== 'boolean') {
    throw invalid('allowPrivateTargets', 'must be a boolean');
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
