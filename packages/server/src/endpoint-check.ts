import type { CheckReport } from './checker/index.ts';
import { runCheck } from './checker/index.ts';
import type { CipherPolicy } from './delivery/ciphers.ts';
import type { LookupFn } from './delivery/ssrf.ts';
import type { ClientIdentity } from './delivery/types.ts';
import type { PlatformIdentity } from './server.ts';
import type { CheckTarget } from './services/context.ts';

export interface EndpointCheckerOptions {
  identity: () => PlatformIdentity | undefined;
  cipherPolicy: CipherPolicy;
  allowPrivateTargets: boolean;
  /** The platform's Ed25519 secrets, for endpoints that are signed with v1a. */
  signingSecrets: () => string[];
  lookup?: LookupFn;
  now: () => number;
}

/**
 * Binds the endpoint checker to this server: the check presents the same client certificate, offers
 * the same suites and signs its test event the way a real delivery to that endpoint would, so
 * "compatible" in the report means "deliveries will work".
 */
export function createEndpointChecker(opts: EndpointCheckerOptions): (target: CheckTarget) => Promise<CheckReport> {
  return async (target) => {
    const platform = opts.identity();
    const e = target.endpoint;
    const tenant: ClientIdentity | undefined =
      e?.clientCertPem && e.clientKeyPem
        ? { certPem: e.clientCertPem, keyPem: e.clientKeyPem, chainPem: e.clientCertPem }
        : undefined;
    const clientIdentity: ClientIdentity | undefined =
      tenant ??
      (platform ? { certPem: platform.certPem, keyPem: platform.keyPem, chainPem: platform.chainPem } : undefined);
    const now = opts.now();
    const testEventSecret =
      e === undefined
        ? undefined
        : e.signing === 'ed25519'
          ? opts.signingSecrets()[0]
          : e.secrets.find((s) => s.expiresAt === null || s.expiresAt > now)?.key;
    return runCheck({
      url: target.url,
      ...(clientIdentity ? { clientIdentity } : {}),
      // A tenant identity comes from the tenant's own CA, which we cannot name; the platform's we can.
      ...(platform && !tenant ? { platformCaPem: platform.caBundlePem } : {}),
      ...(target.serverCaPem ? { serverCaPem: target.serverCaPem } : {}),
      cipherPolicy: e?.tlsPolicy ? { ...opts.cipherPolicy, ...e.tlsPolicy } : opts.cipherPolicy,
      allowPrivateTargets: opts.allowPrivateTargets,
      ...(target.timeoutMs ? { timeoutMs: target.timeoutMs } : {}),
      ...(testEventSecret ? { testEventSecret } : {}),
      ...(opts.lookup ? { lookup: opts.lookup } : {}),
      now: opts.now,
    });
  };
}
