import type { CipherPolicy } from './ciphers.ts';
import type { LookupFn } from './ssrf.ts';

/** A client certificate the platform presents: the chain is leaf first, then intermediates. */
export interface ClientIdentity {
  certPem: string;
  keyPem: string;
  chainPem: string;
}

export interface DeliveryClientOptions {
  /** The platform's current identity; read on every delivery so a rotation applies at once. */
  identity: () => ClientIdentity | undefined;
  cipherPolicy?: CipherPolicy;
  /** Development and tests only: dial loopback and private addresses. */
  allowPrivateTargets?: boolean;
  /** Source address to bind: the one receivers allowlist. */
  egressAddress?: string;
  /** Phase timeouts (defaults and why in docs/delivery.md): resolving the host name, */
  dnsTimeoutMs?: number;
  /** the TCP connection, */
  connectTimeoutMs?: number;
  /** the TLS handshake on it, */
  tlsTimeoutMs?: number;
  /** from the request written to the last byte of the response headers, */
  headersTimeoutMs?: number;
  /** and the whole attempt, setup and response body included. */
  totalTimeoutMs?: number;
  maxResponseBytes?: number;
  lookup?: LookupFn;
  /** Wall clock in milliseconds (durations, Retry-After dates). */
  now?: () => number;
  connectionsPerOrigin?: number;
}

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  tls?: { serverCaPem?: string; clientIdentity?: ClientIdentity; cipherPolicy?: CipherPolicy };
  allowHttp?: boolean;
}

export type FailureKind =
  | 'dns'
  | 'ssrf_blocked'
  | 'connect'
  | 'tls_server_untrusted'
  | 'tls_client_certificate_rejected'
  | 'tls_no_common_protocol'
  | 'tls_other'
  | 'timeout'
  | 'http_status'
  | 'redirect'
  | 'response_too_large';

/** Where an attempt was when a timeout cut it: the phase whose own timeout fired, or `response` for the whole-attempt one. */
export type TimeoutPhase = 'dns' | 'connect' | 'tls' | 'headers' | 'response';

export interface TlsFacts {
  protocol: string;
  cipher: string;
  peerFingerprintSha256?: string;
  /** True when our certificate went out in the handshake (read from the handshake itself). */
  clientCertificateSent: boolean;
  /** Whether the receiver asked for a client certificate; absent when it could not be told. */
  clientCertificateRequested?: boolean;
}

export interface AttemptOutcome {
  ok: boolean;
  statusCode?: number;
  durationMs: number;
  responseExcerpt: string;
  /** True when the response body was longer than the excerpt (not a failure). */
  responseTruncated?: boolean;
  retryAfterMs?: number;
  failure?: { kind: FailureKind; message: string; phase?: TimeoutPhase };
  tls?: TlsFacts;
}

export interface DeliveryClient {
  /**
   * Resolves with the outcome, failures included; rejects only for a malformed request
   * (HW_DELIVERY_REQUEST_INVALID, the caller's bug).
   */
  deliver(req: DeliveryRequest): Promise<AttemptOutcome>;
  /**
   * Stops the client. Graceful by default: attempts in flight finish first (up to their timeout).
   * `force`: they fail at once and their connections are destroyed, so nothing keeps the process alive.
   */
  close(opts?: { force?: boolean }): Promise<void>;
}
