import { readFileSync, statSync } from 'node:fs';
import { FileReplayStore, type ProxyKind, type VerifyPolicy } from '@hookwarden/verify';
import { HookwardenError } from '@hookwarden/verify/errors';
import { GateError } from './errors.ts';

/** Everything `hookwarden gate` runs with, from flags or a JSON file; checked once at start. */
export interface GateConfig {
  listen: { host: string; port: number };
  upstream: string;
  tls?: { certPath: string; keyPath: string; clientCaPath: string };
  maxBodyBytes: number;
  /** Most kept-alive connections open to the upstream at once; more requests wait for one. */
  upstreamConnections: number;
  /** Most bytes of bodies buffered at once, all requests together; more is 503. */
  maxBufferedBytes: number;
  /** Most connections one client (address, IPv6 /64) keeps open; trusted proxies are exempt. */
  maxClientConnections: number;
  /** Longest a body read for a signature check may take to arrive; longer is 408. */
  bodyTimeoutMs: number;
  /** Handed to createVerifier as is: it validates and names any bad field. */
  policy: VerifyPolicy;
}

export interface GateFlags {
  config?: string;
  listen?: string;
  upstream?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'client-ca'?: string;
  'trust-proxy'?: string[];
  'proxy-headers'?: string;
  'require-subject'?: string[];
  'require-dns'?: string[];
  pin?: string[];
  'allow-ip'?: string[];
  secret?: string[];
  'public-key'?: string[];
  tolerance?: string;
  'trust-document'?: string;
  'max-body'?: string;
  'upstream-connections'?: string;
  'replay-dir'?: string;
  'xfcc-elements'?: string;
  'max-buffered'?: string;
  'max-client-connections'?: string;
  'body-timeout'?: string;
}

/** A flag or config-file value that cannot work, naming it. */
export class GateConfigError extends GateError {
  override readonly name = 'GateConfigError';
  constructor(field: string, problem: string) {
    super('HW_GATE_CONFIG_INVALID', `${field}: ${problem}`);
  }
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_UPSTREAM_CONNECTIONS = 64;
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_CLIENT_CONNECTIONS = 32;
export const DEFAULT_BODY_TIMEOUT_SECONDS = 30;

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):)?([0-9]{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port > 65535)
    throw new GateConfigError('--listen', `expected PORT or HOST:PORT (got ${JSON.stringify(value)})`);
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

function parseUpstream(value: string | undefined): string {
  if (!value) throw new GateConfigError('--upstream', 'required (http://host:port of your app)');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new GateConfigError('--upstream', `not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new GateConfigError('--upstream', 'must be http(s)://');
  // Credentials would be printed in the 'listening' log line; a password alone counts too.
  if (url.search || url.hash || url.username || url.password)
    throw new GateConfigError('--upstream', 'no query, fragment or credentials');
  return url.href;
}

/** A whole number of at least 1 from a flag or the file; `what` is what it counts, for the message. */
function parseCount(field: string, value: string | number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new GateConfigError(field, `expected a positive number of ${what}`);
  return n;
}

/**
 * The verify policy the flags describe; parts left out stay out (createVerifier refuses an empty one
 * and names any bad value). `clientCaPem` is the chain check's trust anchor in both modes.
 */
export function policyFromFlags(f: GateFlags, tlsHere: boolean, clientCaPem?: string): VerifyPolicy {
  const policy: VerifyPolicy = {};
  const identity = {
    ...(clientCaPem ? { caBundlePem: clientCaPem } : {}),
    ...(f['require-subject'] ? { subject: f['require-subject'] } : {}),
    ...(f['require-dns'] ? { dnsNames: f['require-dns'] } : {}),
    ...(f.pin ? { pins: f.pin } : {}),
  };
  if (tlsHere) {
    policy.https = true;
    policy.clientCertificate = { source: 'socket', ...identity };
  } else if (f['proxy-headers']) {
    policy.clientCertificate = { source: f['proxy-headers'] as ProxyKind, ...identity };
  } else if (f['require-subject'] || f['require-dns'] || f.pin) {
    throw new GateConfigError('--require-subject/--require-dns/--pin', 'need --tls-cert/--tls-key or --proxy-headers');
  } else if (clientCaPem !== undefined) {
    // Read and then not applied, it would look like a check that is not made.
    throw new GateConfigError('--client-ca', 'needs --tls-cert/--tls-key or --proxy-headers: no certificate to check');
  }
  if (f['xfcc-elements'] !== undefined) {
    if (tlsHere || f['proxy-headers'] !== 'envoy') {
      throw new GateConfigError('--xfcc-elements', 'is for --proxy-headers envoy');
    }
    // createVerifier checks the range, naming the policy field.
    const n = /^[0-9]+$/.test(f['xfcc-elements']) ? Number(f['xfcc-elements']) : Number.NaN;
    policy.clientCertificate!.xfccElements = n;
  }
  if (f['trust-proxy']) policy.trustedProxies = f['trust-proxy'];
  if (f['allow-ip']) policy.ipAllowlist = f['allow-ip'];
  // Following the trust document means following its egress addresses too ([] = the document's).
  else if (f['trust-document']) policy.ipAllowlist = [];
  if (f.secret || f['public-key']) {
    if (f.tolerance !== undefined && !/^[0-9]+$/.test(f.tolerance)) {
      throw new GateConfigError('--tolerance', 'expected a whole number of seconds');
    }
    policy.signature = {
      ...(f.secret ? { secrets: f.secret } : {}),
      ...(f['public-key'] ? { publicKeys: f['public-key'] } : {}),
      ...(f.tolerance ? { toleranceSeconds: Number(f.tolerance) } : {}),
    };
    // A signed id is authenticated: refusing a repeat costs one map entry per message.
    policy.replay = true;
  }
  if (f['trust-document']) policy.trustDocument = f['trust-document'];
  return policy;
}

/**
 * The policy with its replay check kept in `dir` (FileReplayStore), shared by every gate on the host
 * that names it and kept across restarts. Refused where it would not apply: no signature check to
 * take ids from, replay switched off, or a replay store the policy already configures.
 */
function withReplayDir(policy: VerifyPolicy, dir: string, field: string): VerifyPolicy {
  if (policy.signature === undefined) {
    throw new GateConfigError(
      field,
      'needs a signature check (--secret / --public-key): ids are taken from signed messages',
    );
  }
  if (policy.replay === false) throw new GateConfigError(field, 'the policy turns replay protection off');
  if (typeof policy.replay === 'object' && policy.replay !== null) {
    throw new GateConfigError(field, 'the policy already configures its replay store; keep one of the two');
  }
  let store: FileReplayStore;
  try {
    store = new FileReplayStore({ dir });
  } catch (err) {
    throw new GateConfigError(
      field,
      err instanceof HookwardenError ? err.message.replace(/^replay\.dir: /, '') : String(err),
    );
  }
  return { ...policy, replay: { store } };
}

/**
 * The file's policy with the client CA applied (`field` names where the CA came from). Fails closed:
 * with TLS ending here the handshake admits any client, so the policy must check the socket's
 * certificate against that CA (added when the policy has no clientCertificate); behind a proxy the
 * CA is the forwarded certificate's anchor. A CA that would not be applied is refused.
 */
function withClientCa(policy: VerifyPolicy, clientCaPem: string, tlsHere: boolean, field: string): VerifyPolicy {
  const cc = policy.clientCertificate;
  if (cc === undefined) {
    if (tlsHere) return { ...policy, clientCertificate: { source: 'socket', caBundlePem: clientCaPem } };
    throw new GateConfigError(
      field,
      'the policy has no clientCertificate to check against it, and TLS does not end here',
    );
  }
  // Anything else is createVerifier's to refuse, naming the field.
  if (typeof cc !== 'object' || cc === null) return policy;
  if (tlsHere && cc.source !== 'socket') {
    throw new GateConfigError(
      'policy.clientCertificate.source',
      `must be "socket" when TLS ends at the gate (got ${JSON.stringify(cc.source)})`,
    );
  }
  if (cc.caBundlePem === undefined) return { ...policy, clientCertificate: { ...cc, caBundlePem: clientCaPem } };
  if (cc.caBundlePem.trim() !== clientCaPem.trim()) {
    throw new GateConfigError(
      'policy.clientCertificate.caBundlePem',
      `differs from ${field}: name the CAs once, in ${field}`,
    );
  }
  return policy;
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GateConfigError('--config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GateConfigError('--config', `${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GateConfigError('--config', 'expected a JSON object');
  }
  // The file holds signing secrets: refuse one that other users can read, as ssh does for keys.
  if ((statSync(path).mode & 0o077) !== 0 && /whsec_|whsk_/.test(text)) {
    throw new GateConfigError('--config', `${path} holds secrets but is readable by others: chmod 600 it`);
  }
  return value as Record<string, unknown>;
}

function readPem(field: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new GateConfigError(field, `cannot read ${path}: ${(err as Error).message}`);
  }
}

export interface LoadedGateConfig extends Omit<GateConfig, 'tls'> {
  tls?: { certPem: string; keyPem: string; clientCaPem: string };
}

/**
 * Flags, or a JSON file `{ listen, upstream, tls: { cert, key, clientCa }, maxBodyBytes, upstreamConnections,
 * maxBufferedBytes, maxClientConnections, bodyTimeoutSeconds, replayDir, policy }`
 * whose policy is passed to createVerifier as written. Flags given next to --config override its
 * listen, upstream, limits and replay directory only; policy flags together with --config are refused, not merged.
 */
export function loadGateConfig(f: GateFlags): LoadedGateConfig {
  const file = f.config === undefined ? undefined : readJson(f.config);
  const policyFlags = (
    [
      'trust-proxy',
      'proxy-headers',
      'require-subject',
      'require-dns',
      'pin',
      'allow-ip',
      'secret',
      'public-key',
      'tolerance',
      'trust-document',
      'xfcc-elements',
    ] as const
  ).filter((k) => f[k] !== undefined);
  if (file && policyFlags.length > 0) {
    throw new GateConfigError(`--${policyFlags[0]}`, 'the policy comes from --config; put it there');
  }
  const fileTls = (file?.tls ?? undefined) as Record<string, unknown> | undefined;
  const certPath = f['tls-cert'] ?? (fileTls?.cert as string | undefined);
  const keyPath = f['tls-key'] ?? (fileTls?.key as string | undefined);
  const caPath = f['client-ca'] ?? (fileTls?.clientCa as string | undefined);
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new GateConfigError('--tls-cert/--tls-key', 'give both to terminate TLS here, or neither');
  }
  if (certPath !== undefined && caPath === undefined) {
    throw new GateConfigError(
      '--client-ca',
      'required with --tls-cert: the CAs whose client certificates are accepted',
    );
  }
  const clientCaPem = caPath === undefined ? undefined : readPem('--client-ca', caPath);
  const tls =
    certPath !== undefined && keyPath !== undefined && clientCaPem !== undefined
      ? { certPem: readPem('--tls-cert', certPath), keyPem: readPem('--tls-key', keyPath), clientCaPem }
      : undefined;
  let policy: VerifyPolicy;
  if (file) {
    if (typeof file.policy !== 'object' || file.policy === null)
      throw new GateConfigError('policy', 'expected an object');
    policy = file.policy as VerifyPolicy;
    if (clientCaPem !== undefined) {
      policy = withClientCa(policy, clientCaPem, tls !== undefined, f['client-ca'] ? '--client-ca' : 'tls.clientCa');
    }
  } else {
    policy = policyFromFlags(f, tls !== undefined, clientCaPem);
  }
  const replayDir = f['replay-dir'] ?? (file?.replayDir as string | undefined);
  if (replayDir !== undefined) {
    const field = f['replay-dir'] !== undefined ? '--replay-dir' : 'replayDir';
    if (typeof replayDir !== 'string' || replayDir === '') throw new GateConfigError(field, 'expected a directory');
    policy = withReplayDir(policy, replayDir, field);
  }
  /** A count from its flag or, failing that, the file: the message names whichever gave it. */
  const count = (flag: keyof GateFlags, key: string, fallback: number, what: string) =>
    parseCount(
      f[flag] !== undefined ? `--${flag}` : key,
      (f[flag] as string | undefined) ?? (file?.[key] as number | undefined),
      fallback,
      what,
    );
  const maxBodyBytes = count('max-body', 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES, 'bytes');
  const maxBufferedBytes = count('max-buffered', 'maxBufferedBytes', DEFAULT_MAX_BUFFERED_BYTES, 'bytes');
  if (maxBufferedBytes < maxBodyBytes) {
    throw new GateConfigError(
      f['max-buffered'] !== undefined ? '--max-buffered' : 'maxBufferedBytes',
      `is below the body limit (${maxBodyBytes}): a body of that size could never be read`,
    );
  }
  return {
    listen: parseListen(String(f.listen ?? file?.listen ?? '127.0.0.1:8080')),
    upstream: parseUpstream(f.upstream ?? (file?.upstream as string | undefined)),
    tls,
    maxBodyBytes,
    upstreamConnections: count(
      'upstream-connections',
      'upstreamConnections',
      DEFAULT_UPSTREAM_CONNECTIONS,
      'connections',
    ),
    maxBufferedBytes,
    maxClientConnections: count(
      'max-client-connections',
      'maxClientConnections',
      DEFAULT_MAX_CLIENT_CONNECTIONS,
      'connections',
    ),
    bodyTimeoutMs: count('body-timeout', 'bodyTimeoutSeconds', DEFAULT_BODY_TIMEOUT_SECONDS, 'seconds') * 1000,
    policy,
  };
}
