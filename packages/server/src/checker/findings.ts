import type { Finding, Severity, Verdict } from './types.ts';

/**
 * Every problem the checker can report: a stable code (documented in docs/checker.md, never
 * reused), its severity, and the default advice. Messages carry the specifics of one check.
 * error: the dispatcher cannot deliver; warning: it can, but something should change; info: a fact.
 */
export const FINDINGS = {
  HW_CHECK_URL_NOT_HTTPS: { severity: 'error', fix: 'serve the endpoint over https://' },
  HW_CHECK_DNS_FAILED: { severity: 'error', fix: 'publish an A or AAAA record for the host' },
  HW_CHECK_ADDRESS_FORBIDDEN: {
    severity: 'error',
    fix: 'use a host with public addresses only; private targets are for development setups (CLI: --allow-private-targets)',
  },
  HW_CHECK_CONNECT_FAILED: { severity: 'error', fix: 'open the port to the platform’s egress addresses' },
  HW_CHECK_PLAIN_HTTP: {
    severity: 'error',
    fix: 'enable TLS on this port (nginx: `listen 443 ssl`) or put the HTTPS port in the URL',
  },
  HW_CHECK_NOT_TLS: { severity: 'error', fix: 'point the URL at the HTTPS port' },
  HW_CHECK_TLS_TIMEOUT: {
    severity: 'error',
    fix: 'the server accepts connections but never answers the TLS handshake: check the listener and any firewall in front of it',
  },
  HW_CHECK_NO_COMMON_PROTOCOL: {
    severity: 'error',
    fix: 'enable TLS 1.2 and 1.3 (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`)',
  },
  HW_CHECK_NO_COMMON_CIPHER: {
    severity: 'error',
    fix: 'enable a forward-secret AEAD suite such as ECDHE-RSA-AES128-GCM-SHA256 (nginx: `ssl_ciphers`)',
  },
  HW_CHECK_LEGACY_PROTOCOL: {
    severity: 'warning',
    fix: 'disable TLS 1.0 and 1.1 (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`)',
  },
  HW_CHECK_NO_TLS13: { severity: 'info', fix: 'enable TLS 1.3 (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`)' },
  HW_CHECK_CHAIN_UNTRUSTED: {
    severity: 'error',
    fix: 'use a certificate from a public CA, or register the private CA with the endpoint',
  },
  HW_CHECK_CHAIN_INCOMPLETE: {
    severity: 'error',
    fix: 'send the intermediate certificates after the leaf (nginx: `ssl_certificate` pointing at the full chain)',
  },
  HW_CHECK_CHAIN_ORDER: {
    severity: 'warning',
    fix: 'order the certificate file leaf first, then each certificate’s issuer',
  },
  HW_CHECK_HOSTNAME_MISMATCH: {
    severity: 'error',
    fix: 'use a certificate whose subjectAltName covers the URL’s host',
  },
  HW_CHECK_CERT_EXPIRED: { severity: 'error', fix: 'renew the certificate' },
  HW_CHECK_CERT_NOT_YET_VALID: { severity: 'error', fix: 'check the server’s clock and the certificate’s notBefore' },
  HW_CHECK_CERT_EXPIRING: { severity: 'warning', fix: 'renew the certificate (or its automation) soon' },
  HW_CHECK_WEAK_KEY: { severity: 'warning', fix: 'use an RSA key of 2048 bits or more, or an EC P-256 key' },
  HW_CHECK_CLIENT_CERT_NOT_REQUESTED: {
    severity: 'warning',
    fix: 'request and verify the platform’s client certificate: add `ssl_verify_client on;` and `ssl_client_certificate <platform CA bundle>;`',
  },
  HW_CHECK_CLIENT_CERT_OPTIONAL: {
    severity: 'warning',
    fix: 'require the certificate: `ssl_verify_client on;` instead of `optional`',
  },
  HW_CHECK_CLIENT_AUTH_UNKNOWN: { severity: 'info' },
  HW_CHECK_PLATFORM_CA_NOT_ADVERTISED: {
    severity: 'warning',
    fix: 'add the platform’s CA bundle to `ssl_client_certificate` (the CAs it lists are the ones it trusts and names)',
  },
  HW_CHECK_CLIENT_CERT_REJECTED: {
    severity: 'error',
    fix: 'trust the platform’s CA bundle (`ssl_client_certificate`) with a depth covering its intermediates (`ssl_verify_depth 2;`)',
  },
  HW_CHECK_DELIVERY_HANDSHAKE_FAILED: {
    severity: 'error',
    fix: 'fix the TLS findings above; every delivery makes this same handshake',
  },
  HW_CHECK_HTTP_FAILED: { severity: 'error', fix: 'make the endpoint answer HTTP requests on this URL' },
  HW_CHECK_HTTP_STATUS: {
    severity: 'warning',
    fix: 'answer 2xx to events it accepts; a receiver that checks signatures rejects a test event signed with another secret',
  },
  HW_CHECK_TIME_BOUND: { severity: 'warning', fix: 'run the check again; a slow server may also time out deliveries' },
} as const satisfies Record<string, { severity: Severity; fix?: string }>;

export type FindingCode = keyof typeof FINDINGS;

export function finding(code: FindingCode, message: string, fix?: string): Finding {
  const entry: { severity: Severity; fix?: string } = FINDINGS[code];
  const advice = fix ?? entry.fix;
  return advice === undefined
    ? { code, severity: entry.severity, message }
    : { code, severity: entry.severity, message, fix: advice };
}

export function verdictOf(findings: Finding[]): Verdict {
  if (findings.some((f) => f.severity === 'error')) return 'incompatible';
  if (findings.some((f) => f.severity === 'warning')) return 'compatible_with_warnings';
  return 'compatible';
}
