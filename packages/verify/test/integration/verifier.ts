import { readFileSync } from 'node:fs';
import type { ProxyKind } from '../../src/index.ts';
import { createVerifier } from '../../src/verifier.ts';
import type { AppRequest } from './app.ts';
import type { Material } from './material.ts';

/**
 * The app's check: the toolkit in proxy-header mode, believing the proxy's headers only from
 * `trusted`, requiring the platform's subject, and checking the chain whenever the proxy forwards
 * the certificate itself.
 */
export function toolkitVerifier(kind: ProxyKind, trusted: string, m: Material): (req: AppRequest) => Promise<unknown> {
  const verifier = createVerifier({
    trustedProxies: [trusted],
    clientCertificate: {
      source: kind,
      subject: m.platformDn,
      caBundlePem: readFileSync(m.paths.caBundle, 'utf8'),
    },
  });
  return (req) => verifier.verify(req);
}
