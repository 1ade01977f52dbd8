import { HANDSHAKE_FACTS, type HandshakeFacts } from './connector.ts';
import type { FailureKind, TimeoutPhase } from './types.ts';

/**
 * Maps what failed — OpenSSL's reason, a socket error, undici's timeouts, our guard — to the kinds
 * an operator acts on. TLS failures are told apart because they need different people to act: an
 * untrusted receiver certificate is the receiver's to fix, a refused client certificate usually
 * means the receiver trusts a CA bundle without ours.
 */
const SERVER_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
]);

const CLIENT_CERT_REJECTED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

const NO_COMMON_PROTOCOL = new Set([
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_NO_SHARED_CIPHER',
  'ERR_SSL_NO_CIPHERS_AVAILABLE',
  'ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY',
  'ERR_SSL_WRONG_CIPHER_RETURNED',
  'ERR_SSL_VERSION_TOO_LOW',
]);

/** Which phase each timeout cut (delivery/types.ts `TimeoutPhase`). */
const TIMEOUT_PHASES = new Map<string, TimeoutPhase>([
  ['HW_DELIVERY_DNS_TIMEOUT', 'dns'],
  ['HW_DELIVERY_CONNECT_TIMEOUT', 'connect'],
  ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
  ['ETIMEDOUT', 'connect'],
  ['HW_DELIVERY_TLS_TIMEOUT', 'tls'],
  ['HW_DELIVERY_HEADERS_TIMEOUT', 'headers'],
  ['UND_ERR_HEADERS_TIMEOUT', 'headers'],
  ['HW_DELIVERY_TIMEOUT', 'response'],
  ['UND_ERR_BODY_TIMEOUT', 'response'],
]);

/** More response headers than the parser takes (http.maxHeaderSize, 16 KiB): read no further. */
const TOO_LARGE = new Set(['UND_ERR_HEADERS_OVERFLOW', 'HPE_HEADER_OVERFLOW']);

/**
 * `context` describes the connection a request failed on, if it got one: its TLS error (undici may
 * report only "other side closed"), its handshake facts, and how many requests it carried.
 */
export function classifyError(
  err: unknown,
  context: { error?: Error; facts?: HandshakeFacts; requests?: number } = {},
): { kind: FailureKind; message: string; phase?: TimeoutPhase } {
  const original = (err ?? {}) as { code?: string; [HANDSHAKE_FACTS]?: HandshakeFacts };
  const closed = original.code === 'UND_ERR_SOCKET' || original.code === 'ECONNRESET' || original.code === 'EPIPE';
  const e = (closed && context.error ? context.error : original) as { code?: string; message?: string };
  const code = typeof e.code === 'string' ? e.code : '';
  const text = `${code ? `${code}: ` : ''}${opensslReason(e.message ?? String(err))}`;
  const facts = original[HANDSHAKE_FACTS] ?? context.facts;
  // A receiver that asked for our certificate and then hung up before answering anything on a
  // fresh connection rejected the certificate without an alert (Node's HTTPS server does that
  // when `rejectUnauthorized` refuses a presented chain).
  const droppedAfterCertificate =
    (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') &&
    facts?.certificateRequested === true &&
    (context.requests ?? 0) <= 1;
  const kind = ((): FailureKind => {
    if (code === 'HW_ENDPOINT_URL_UNRESOLVABLE') return 'dns';
    if (code.startsWith('HW_ENDPOINT_URL_')) return 'ssrf_blocked';
    if (TIMEOUT_PHASES.has(code)) return 'timeout';
    if (TOO_LARGE.has(code)) return 'response_too_large';
    if (SERVER_UNTRUSTED.has(code)) return 'tls_server_untrusted';
    if (CLIENT_CERT_REJECTED.has(code) || droppedAfterCertificate) return 'tls_client_certificate_rejected';
    if (NO_COMMON_PROTOCOL.has(code)) return 'tls_no_common_protocol';
    if (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') {
      // The same alert answers "no suite in common" (before ServerHello) and, in TLS 1.2, "no
      // acceptable client certificate" (after the receiver asked for one).
      if (facts?.certificateRequested) return 'tls_client_certificate_rejected';
      return facts?.negotiated ? 'tls_other' : 'tls_no_common_protocol';
    }
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_')) return 'tls_other';
    return 'connect';
  })();
  // Refused for want of a certificate is another fix than refused despite ours: say which.
  if (kind === 'tls_client_certificate_rejected' && facts?.clientCertificateSent === false) {
    return { kind, message: `the receiver requires a client certificate and none was sent (${text.slice(0, 500)})` };
  }
  const phase = kind === 'timeout' ? TIMEOUT_PHASES.get(code) : undefined;
  if (phase === undefined) return { kind, message: describe(kind, text) };
  return { kind, message: describe(kind, text, phase), phase };
}

function describe(kind: FailureKind, detail: string, phase?: TimeoutPhase): string {
  const prefix: Record<FailureKind, string> = {
    dns: 'the host name does not resolve',
    ssrf_blocked: 'the target is not allowed',
    connect: 'could not connect or the connection broke',
    tls_server_untrusted: "the receiver's certificate is not trusted",
    tls_client_certificate_rejected: 'the receiver refused our client certificate',
    tls_no_common_protocol: 'no TLS version or cipher suite in common with the receiver',
    tls_other: 'the TLS handshake failed',
    timeout: 'the receiver did not answer in time',
    http_status: 'the receiver answered with an error status',
    redirect: 'the receiver answered with a redirect, which is not followed',
    response_too_large: 'the response was too large',
  };
  const where = phase === undefined ? '' : ` in the ${PHASE_NAMES[phase]} phase`;
  return `${prefix[kind]}${where} (${detail.slice(0, 500)})`;
}

const PHASE_NAMES: Record<TimeoutPhase, string> = {
  dns: 'DNS',
  connect: 'TCP connect',
  tls: 'TLS handshake',
  headers: 'response headers',
  response: 'whole response',
};

/** `80CC…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…` → the reason. */
function opensslReason(message: string): string {
  const m = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(message);
  return m ? m[1]! : message;
}

/**
 * nginx checks client certificates per request, after the handshake: it answers 400 with one of
 * these titles instead of failing TLS (its internal codes 495 / 496 are never sent).
 */
const NGINX_CERTIFICATE_PAGES = /<title>400 (No required SSL certificate was sent|The SSL certificate error)<\/title>/;

export function classifyStatus(
  statusCode: number,
  excerpt: string,
  location?: string,
): { kind: FailureKind; message: string } | undefined {
  if (statusCode >= 200 && statusCode < 300) return undefined;
  if (statusCode >= 300 && statusCode < 400) {
    const to = location ? `redirect to ${location.slice(0, 300)}` : 'redirect';
    return {
      kind: 'redirect',
      message: `the receiver answered ${statusCode} (${to}), which is not followed: configure the final URL`,
    };
  }
  const nginx = statusCode === 400 ? NGINX_CERTIFICATE_PAGES.exec(excerpt) : null;
  if (nginx) {
    const none = nginx[1]?.startsWith('No required');
    return {
      kind: 'tls_client_certificate_rejected',
      message: `${none ? 'the receiver requires a client certificate and none was sent' : 'the receiver refused our client certificate'} (HTTP 400: ${nginx[1]})`,
    };
  }
  return { kind: 'http_status', message: `the receiver answered ${statusCode}` };
}
