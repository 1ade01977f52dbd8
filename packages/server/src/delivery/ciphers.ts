/**
 * The TLS policy the dispatcher offers receivers, shared with the endpoint checker and published in
 * the trust document, so all three agree on what "compatible" means.
 *
 * Wide on purpose: receivers run every kind of HTTPS server, and a callback that cannot be delivered
 * helps nobody. Forward-secret AEAD suites come first; CBC and plain-RSA key exchange stay for old
 * servers. Excluded as broken: RC4, 3DES, export, NULL, anonymous (aNULL), MD5, and TLS < 1.2.
 * Names are OpenSSL's (what Node's `ciphers` option and sslscan print).
 */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
/** Every version a policy may name, oldest first (the order min/max are compared in). */
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export const TLS13_SUITES: readonly string[] = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

export const TLS12_CIPHERS: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'DHE-RSA-AES128-SHA256',
  'DHE-RSA-AES256-SHA256',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA256',
  'AES256-SHA256',
  'AES128-SHA',
  'AES256-SHA',
];

export interface CipherPolicy {
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** TLS 1.2 cipher suites, OpenSSL names, in preference order. */
  ciphers: readonly string[];
  /** TLS 1.3 suites, in preference order. */
  tls13Suites: readonly string[];
}

export const DEFAULT_CIPHER_POLICY: CipherPolicy = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: TLS12_CIPHERS,
  tls13Suites: TLS13_SUITES,
};

/** Node's `ciphers` option takes TLS 1.2 and TLS 1.3 names in one colon-separated list. */
export function nodeCipherString(policy: CipherPolicy): string {
  return [...policy.tls13Suites, ...policy.ciphers].join(':');
}
