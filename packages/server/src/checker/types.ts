import type { CipherPolicy, TlsVersion } from '../delivery/ciphers.ts';
import type { LookupFn } from '../delivery/ssrf.ts';
import type { ClientIdentity } from '../delivery/types.ts';

export type { ClientIdentity, LookupFn };

export interface TestEventResult {
  statusCode?: number;
  latencyMs: number;
  error?: string;
}

export interface CheckOptions {
  url: string;
  clientIdentity?: ClientIdentity;
  /** The platform's CA bundle, to look for among the CA names the server advertises. */
  platformCaPem?: string;
  /** A private CA that issued the server's certificate; default: the public roots. */
  serverCaPem?: string;
  cipherPolicy?: CipherPolicy;
  allowPrivateTargets?: boolean;
  /** Bound on the whole check, ms. Default 15000. */
  timeoutMs?: number;
  /** Connections open at once. Default 8. */
  concurrency?: number;
  sendTestEvent?: (url: string) => Promise<TestEventResult>;
  /** Secret (whsec_/whsk_) that signs the default test event; a throwaway one when absent. */
  testEventSecret?: string;
  lookup?: LookupFn;
  /** Wall clock in epoch ms: dates the report, judges expiry, and its differences give durations. */
  now?: () => number;
}

export type Severity = 'error' | 'warning' | 'info';
export type Verdict = 'compatible' | 'compatible_with_warnings' | 'incompatible';

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  /** What to change, when the receiver can fix it. */
  fix?: string;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  daysToExpiry: number;
  keyType: string;
  keyBits?: number;
  curve?: string;
  selfSigned: boolean;
  isCa: boolean;
}

export type ClientAuthMode = 'none' | 'optional' | 'required' | 'unknown';

/** Server software the check recognises from what the server answers, for advice that fits it. */
export type ServerSoftware = 'nginx' | 'haproxy' | 'caddy' | 'node';

export interface CheckReport {
  /** Version of this JSON shape; see docs/checker.md. */
  schema: 1;
  url: string;
  host: string;
  port: number;
  checkedAt: string;
  durationMs: number;
  verdict: Verdict;
  dns: {
    answers: { address: string; family: number; allowed: boolean; reason?: string }[];
    error?: string;
  };
  connect: { address?: string; ok: boolean; timeMs?: number; error?: string };
  tls: {
    protocols: { version: TlsVersion; accepted: boolean | null; inPolicy: boolean; error?: string }[];
    ciphers: { version: TlsVersion; accepted: string[]; rejected: string[] }[];
    /** What the dispatcher's own configuration negotiates. */
    negotiated?: { protocol: string; cipher: string };
  };
  chain: {
    /** 'handshake': read from the wire, exactly as sent; 'peer': as Node completed it. */
    source: 'handshake' | 'peer' | 'none';
    certificates: CertificateSummary[];
    trusted: boolean | null;
    trustError?: string;
    complete: boolean | null;
    ordered: boolean | null;
    hostnameMatch: boolean | null;
    daysToExpiry?: number;
  };
  clientAuth: {
    mode: ClientAuthMode;
    /** How the mode was established: 'certificate-request' (read from the handshake) or 'behaviour'. */
    detectedBy: string[];
    caNames: string[];
    platformCaAdvertised: boolean | null;
    withPlatformCertificate: { attempted: boolean; ok: boolean | null; error?: string; statusCode?: number };
  };
  http: { attempted: boolean; statusCode?: number; latencyMs?: number; error?: string };
  /** The server software recognised, and from what (a response header); absent when not recognised. */
  server?: { software: ServerSoftware; evidence: string };
  findings: Finding[];
}
