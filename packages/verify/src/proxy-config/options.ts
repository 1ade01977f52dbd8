import { isIP, isIPv4, isIPv6 } from 'node:net';
import { HookwardenError } from '../errors.ts';

/** Where the generated configuration decides: the app checks the forwarded facts, or the proxy refuses itself. */
export type ProxyConfigMode = 'headers' | 'check';

export interface ProxyConfigOptions {
  /** The host name the receiver serves callbacks on (server_name / site address). */
  serverName: string;
  /** Port, or `address:port` / `[v6]:port`, the proxy listens on for TLS. */
  listen: number | string;
  /** The app behind the proxy: `http://host:port` or `https://host:port`, origin only. */
  upstream: string;
  /**
   * https upstream only: CA bundle (PEM) the app's certificate must chain to. Default: the system's
   * trust store (nginx: /etc/ssl/certs/ca-certificates.crt, HAProxy: @system-ca, Caddy: its roots).
   */
  upstreamCaBundlePath?: string;
  /** CA bundle (PEM) that issued the platform's client certificates: intermediate(s) and root. */
  caBundlePath: string;
  /** The receiver's own server certificate chain and key. */
  serverCertPath: string;
  serverKeyPath: string;
  /**
   * Intermediates allowed between the client certificate and a trusted root (nginx's meaning). Default 2.
   * nginx only: HAProxy and Caddy have no such limit, and refuse any other value.
   */
  verifyDepth?: number;
  /** Default 'headers': the proxy verifies the chain and forwards facts, the app decides on identity. */
  mode?: ProxyConfigMode;
  /** Check mode: accepted subject DNs (RFC 4514). Any one match admits. */
  subjects?: string[];
  /** Check mode: accepted certificate fingerprints, SHA-1 (40 hex) or SHA-256 (64 hex), colons allowed. */
  fingerprints?: string[];
  /** Source address the proxy connects to the upstream from, so the app can trust exactly that address. */
  sourceAddress?: string;
}

export interface Fingerprint {
  algorithm: 'sha1' | 'sha256';
  /** Lower-case hex without separators. */
  hex: string;
}

/** Options after validation: every value is known safe to place in a configuration file. */
export interface CheckedOptions {
  serverName: string;
  listenHost?: string;
  listenPort: number;
  upstream: URL;
  /** Set only for an https upstream; undefined means the proxy's system trust store. */
  upstreamCaBundlePath?: string;
  caBundlePath: string;
  serverCertPath: string;
  serverKeyPath: string;
  verifyDepth: number;
  mode: ProxyConfigMode;
  subjects: string[];
  fingerprints: Fingerprint[];
  sourceAddress?: string;
}

export class ProxyConfigError extends HookwardenError {
  override readonly name = 'ProxyConfigError';
  /** The option at fault (`caBundlePath`, `subjects[1]`), and what is wrong with it: a CLI names its own flag. */
  readonly field: string | undefined;
  readonly reason: string;

  constructor(code: string, message: string, options: { field?: string; reason?: string } = {}) {
    super(code, message);
    this.field = options.field;
    this.reason = options.reason ?? message;
  }
}

/** The error for one bad option: `<field>: <reason>`. */
export function optionError(field: string, reason: string): ProxyConfigError {
  return new ProxyConfigError('HW_PROXY_CONFIG_INVALID', `${field}: ${reason}`, { field, reason });
}

/** What `verifyDepth` means when not given; the only value the kinds without a depth limit accept. */
export const DEFAULT_VERIFY_DEPTH = 2;

function bad(field: string, why: string): never {
  throw optionError(field, why);
}

// Values land inside configuration files. Rather than escaping for three grammars (nginx expands `$`,
// HAProxy `$` inside double quotes, Caddy `{}`), paths and names are held to a charset that needs no
// escaping anywhere; DNs, which legitimately hold punctuation, are escaped per proxy.
const SAFE_PATH = /^\/[A-Za-z0-9._/@+=,~-]*$/;
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function checkPath(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') bad(field, 'required (an absolute file path)');
  if (!SAFE_PATH.test(value))
    bad(field, `must be an absolute path of letters, digits and ._/@+=,~- (got ${JSON.stringify(value)})`);
  if (value.split('/').includes('..')) bad(field, 'must not contain ".."');
  return value;
}

function checkHostName(field: string, value: unknown, wildcard: boolean): string {
  if (typeof value !== 'string' || value === '') bad(field, 'required (a DNS name)');
  const labels = value.split('.');
  const ok =
    value.length <= 253 &&
    labels.every((label, i) => HOST_LABEL.test(label) || (wildcard && i === 0 && label === '*' && labels.length > 2));
  if (!ok) bad(field, `not a valid DNS name: ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

function checkPort(field: string, value: unknown): number {
  const n = typeof value === 'string' && /^[0-9]{1,5}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535)
    bad(field, 'port must be an integer 1-65535');
  return n;
}

function checkListen(value: unknown): { listenHost?: string; listenPort: number } {
  if (typeof value === 'number') return { listenPort: checkPort('listen', value) };
  if (typeof value !== 'string' || value === '') bad('listen', 'required (port or address:port)');
  if (/^[0-9]+$/.test(value)) return { listenPort: checkPort('listen', value) };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]+)$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  if (!m || host === undefined || !(m[1] ? isIPv6(host) : isIPv4(host))) {
    bad('listen', `expected port, IPv4:port or [IPv6]:port (got ${JSON.stringify(value)})`);
  }
  return { listenHost: host, listenPort: checkPort('listen', m[3]) };
}

function checkUpstream(value: unknown): URL {
  if (typeof value !== 'string') bad('upstream', 'required (http://host:port)');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    bad('upstream', `not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad('upstream', 'must be http:// or https://');
  if (url.username || url.password) bad('upstream', 'must not carry credentials');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    bad('upstream', 'origin only (no path, query or fragment)');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!isIPv4(host) && !isIPv6(host)) checkHostName('upstream', host, false);
  return url;
}

/** The upstream's CA bundle: a path like the others, and only where TLS to the app will use it. */
function checkUpstreamCa(upstream: URL, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // Accepted but unused with http:// would suggest the app's certificate is checked when there is none.
  if (upstream.protocol !== 'https:') bad('upstreamCaBundlePath', 'applies only to an https:// upstream');
  return checkPath('upstreamCaBundlePath', value);
}

export function parseFingerprint(field: string, value: unknown): Fingerprint {
  if (typeof value !== 'string') bad(field, 'expected a hex fingerprint');
  const hex = value.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || (hex.length !== 40 && hex.length !== 64)) {
    bad(field, `expected SHA-1 (40 hex) or SHA-256 (64 hex) digits, colons allowed (got ${JSON.stringify(value)})`);
  }
  return { algorithm: hex.length === 40 ? 'sha1' : 'sha256', hex };
}

function checkSubject(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') bad(field, 'expected an RFC 4514 DN');
  // Control characters can end a line or a token in every configuration grammar.
  if (/[\x00-\x1f\x7f]/.test(value)) bad(field, 'must not contain control characters');
  return value;
}

function list(field: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) bad(field, 'expected an array');
  return value;
}

/** Validates once, naming the bad field; generators only see checked values. */
export function checkOptions(opts: ProxyConfigOptions): CheckedOptions {
  if (typeof opts !== 'object' || opts === null) bad('options', 'expected an object');
  const mode = opts.mode ?? 'headers';
  if (mode !== 'headers' && mode !== 'check') bad('mode', "expected 'headers' or 'check'");
  const depth = opts.verifyDepth ?? DEFAULT_VERIFY_DEPTH;
  if (!Number.isInteger(depth) || depth < 0 || depth > 10) bad('verifyDepth', 'expected an integer 0-10');
  const subjects = list('subjects', opts.subjects).map((s, i) => checkSubject(`subjects[${i}]`, s));
  const fingerprints = list('fingerprints', opts.fingerprints).map((f, i) => parseFingerprint(`fingerprints[${i}]`, f));
  if (mode === 'check' && subjects.length === 0 && fingerprints.length === 0) {
    bad('mode', "'check' needs at least one of subjects or fingerprints");
  }
  if (mode === 'headers' && (subjects.length > 0 || fingerprints.length > 0)) {
    bad(
      'mode',
      "subjects and fingerprints are checked in the proxy only with mode 'check'; in 'headers' mode the app checks them",
    );
  }
  let sourceAddress: string | undefined;
  if (opts.sourceAddress !== undefined) {
    if (typeof opts.sourceAddress !== 'string' || !(isIPv4(opts.sourceAddress) || isIPv6(opts.sourceAddress))) {
      bad('sourceAddress', 'expected an IP address');
    }
    sourceAddress = opts.sourceAddress;
  }
  const upstream = checkUpstream(opts.upstream);
  return {
    serverName: checkHostName('serverName', opts.serverName, true),
    ...checkListen(opts.listen),
    upstream,
    upstreamCaBundlePath: checkUpstreamCa(upstream, opts.upstreamCaBundlePath),
    caBundlePath: checkPath('caBundlePath', opts.caBundlePath),
    serverCertPath: checkPath('serverCertPath', opts.serverCertPath),
    serverKeyPath: checkPath('serverKeyPath', opts.serverKeyPath),
    verifyDepth: depth,
    mode,
    subjects,
    fingerprints,
    sourceAddress,
  };
}

export function unsupported(field: string, why: string): never {
  bad(field, why);
}

/** For the kinds that cannot limit the chain length: a depth they would silently ignore is refused. */
export function requireDefaultDepth(o: CheckedOptions, kind: string): void {
  if (o.verifyDepth !== DEFAULT_VERIFY_DEPTH) {
    unsupported(
      'verifyDepth',
      `${kind} cannot limit the client certificate's chain length; leave it at ${DEFAULT_VERIFY_DEPTH} (the default) and keep the CA bundle to the platform's own hierarchy`,
    );
  }
}

/**
 * For the kinds that check an https upstream's name only against DNS names (nginx's X509_check_host,
 * HAProxy's verifyhost): an IP address would never match the certificate's IP SANs, so every request
 * would fail. Refused here rather than discovered as 502s.
 */
export function requireUpstreamTlsName(o: CheckedOptions, kind: string): void {
  if (o.upstream.protocol === 'https:' && isIP(o.upstream.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    unsupported(
      'upstream',
      `${kind} checks an https upstream's certificate by DNS name only; give the name the app's certificate carries (https://app.internal:8443)`,
    );
  }
}

/** `host:port` of the upstream with the scheme's default port made explicit (nginx assumes 80 otherwise). */
export function upstreamAddress(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}
