import type { Finding, ServerSoftware, Severity, Verdict } from './types.ts';

const SERVER_NAMES: Record<ServerSoftware, string> = {
  nginx: 'nginx',
  haproxy: 'HAProxy',
  caddy: 'Caddy',
  node: 'Node.js',
};

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
    fix: 'enable TLS on this port, or put the HTTPS port in the URL',
    servers: {
      nginx: '`listen 443 ssl;`',
      haproxy: '`bind :443 ssl crt <file>`',
      node: 'https.createServer instead of http.createServer',
    },
  },
  HW_CHECK_NOT_TLS: { severity: 'error', fix: 'point the URL at the HTTPS port' },
  HW_CHECK_TLS_TIMEOUT: {
    severity: 'error',
    fix: 'the server accepts connections but never answers the TLS handshake: check the listener and any firewall in front of it',
  },
  HW_CHECK_NO_COMMON_PROTOCOL: {
    severity: 'error',
    fix: 'enable TLS 1.2 and 1.3',
    servers: {
      nginx: '`ssl_protocols TLSv1.2 TLSv1.3;`',
      haproxy: '`ssl-min-ver TLSv1.2` on the bind line',
      caddy: '`tls { protocols tls1.2 tls1.3 }`',
      node: "`minVersion: 'TLSv1.2'` in the server's options",
    },
  },
  HW_CHECK_NO_COMMON_CIPHER: {
    severity: 'error',
    fix: 'enable a forward-secret AEAD suite such as ECDHE-RSA-AES128-GCM-SHA256',
    servers: {
      nginx: '`ssl_ciphers`',
      haproxy: '`ciphers` on the bind line, or `ssl-default-bind-ciphers`',
      caddy: '`tls { ciphers … }`',
      node: "`ciphers` in the server's options (Node's default list has them)",
    },
  },
  HW_CHECK_LEGACY_PROTOCOL: {
    severity: 'warning',
    fix: 'disable TLS 1.0 and 1.1',
    servers: {
      nginx: '`ssl_protocols TLSv1.2 TLSv1.3;`',
      haproxy: '`ssl-min-ver TLSv1.2` on the bind line',
      node: "`minVersion: 'TLSv1.2'` (the default)",
    },
  },
  HW_CHECK_NO_TLS13: {
    severity: 'info',
    fix: 'enable TLS 1.3',
    servers: {
      nginx: '`ssl_protocols TLSv1.2 TLSv1.3;`',
      haproxy: '`ssl-max-ver TLSv1.3` on the bind line',
      node: "`maxVersion: 'TLSv1.3'` (the default)",
    },
  },
  HW_CHECK_CHAIN_UNTRUSTED: {
    severity: 'error',
    fix: 'use a certificate from a public CA, or register the private CA with the endpoint',
  },
  HW_CHECK_CHAIN_INCOMPLETE: {
    severity: 'error',
    fix: 'send the intermediate certificates after the leaf',
    servers: {
      nginx: '`ssl_certificate` pointing at the full chain',
      haproxy: 'the `crt` file holds the leaf, its intermediates and the key',
      caddy: '`tls <full chain file> <key file>`',
      node: '`cert:` the leaf followed by its intermediates',
    },
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
    fix: 'request and verify the platform’s client certificate against the platform’s CA bundle (hookwarden proxy-config writes nginx, HAProxy and Caddy configurations that do)',
    servers: {
      nginx: '`ssl_verify_client on;` and `ssl_client_certificate <platform CA bundle>;`',
      haproxy: '`verify required ca-file <platform CA bundle>` on the bind line',
      caddy: '`tls { client_auth { mode require_and_verify trust_pool file <platform CA bundle> } }`',
      node: '`requestCert: true` and `ca: <platform CA bundle>`, then @hookwarden/verify in the app',
    },
  },
  HW_CHECK_CLIENT_CERT_OPTIONAL: {
    severity: 'warning',
    fix: 'refuse requests without a verified certificate, in the TLS handshake or in the app',
    servers: {
      nginx: '`ssl_verify_client on;` instead of `optional`',
      haproxy: '`verify required` instead of `optional`',
      caddy: '`mode require_and_verify`',
      node: '`rejectUnauthorized: true`, or @hookwarden/verify answering 401 without a certificate',
    },
  },
  HW_CHECK_CLIENT_AUTH_UNKNOWN: { severity: 'info' },
  HW_CHECK_PLATFORM_CA_NOT_ADVERTISED: {
    severity: 'warning',
    fix: 'trust the platform’s CA bundle for client certificates (the CAs a server names are the ones it trusts)',
    servers: {
      nginx: 'add it to `ssl_client_certificate`',
      haproxy: 'add it to the bind line’s `ca-file`',
      caddy: 'add it to `trust_pool`',
      node: 'add it to the server’s `ca:`',
    },
  },
  HW_CHECK_CLIENT_CERT_REJECTED: {
    severity: 'error',
    fix: 'trust the platform’s CA bundle for client certificates, with a depth that covers its intermediates',
    servers: {
      nginx: '`ssl_client_certificate <platform CA bundle>;` and `ssl_verify_depth 2;`',
      haproxy: '`ca-file <platform CA bundle>` on the bind line',
      caddy: '`trust_pool file <platform CA bundle>`',
      node: '`ca: <platform CA bundle>`',
    },
  },
  HW_CHECK_DELIVERY_HANDSHAKE_FAILED: {
    severity: 'error',
    fix: 'compare the server’s TLS settings with what the platform offers (docs/delivery.md); every delivery makes this same handshake',
  },
  // An error: without our certificate no delivery was tested, and "compatible" would claim one was.
  HW_CHECK_IDENTITY_NEEDED: {
    severity: 'error',
    fix: 'check again with the platform’s identity (CLI: --pki-dir <data>/pki, or --client-cert and --client-key; the API and the portal use it themselves)',
  },
  HW_CHECK_HTTP_FAILED: { severity: 'error', fix: 'make the endpoint answer HTTP requests on this URL' },
  HW_CHECK_HTTP_STATUS: {
    severity: 'warning',
    fix: 'answer 2xx to events it accepts; a receiver that checks signatures rejects a test event signed with another secret',
  },
  HW_CHECK_TIME_BOUND: { severity: 'warning', fix: 'run the check again; a slow server may also time out deliveries' },
} as const satisfies Record<
  string,
  { severity: Severity; fix?: string; servers?: Partial<Record<ServerSoftware, string>> }
>;

export type FindingCode = keyof typeof FINDINGS;

/**
 * One finding. Its advice is `fix` when given, else the table's, followed by how to do it on the
 * server software the check recognised (nginx advice for a Node receiver would be wrong).
 */
export function finding(code: FindingCode, message: string, fix?: string, server?: ServerSoftware): Finding {
  const entry: { severity: Severity; fix?: string; servers?: Partial<Record<ServerSoftware, string>> } = FINDINGS[code];
  const how = server === undefined ? undefined : entry.servers?.[server];
  const advice =
    fix ??
    (entry.fix !== undefined && how !== undefined
      ? `${entry.fix} (${SERVER_NAMES[server as ServerSoftware]}: ${how})`
      : entry.fix);
  return advice === undefined
    ? { code, severity: entry.severity, message }
    : { code, severity: entry.severity, message, fix: advice };
}

export function verdictOf(findings: Finding[]): Verdict {
  if (findings.some((f) => f.severity === 'error')) return 'incompatible';
  if (findings.some((f) => f.severity === 'warning')) return 'compatible_with_warnings';
  return 'compatible';
}
