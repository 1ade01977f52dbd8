import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';

export const PLATFORM_DN = 'CN=hooks.platform.test,O=Acme\\, Inc.,C=US';

export interface Client {
  /** Leaf then intermediates, as presented in the handshake. */
  chain: string;
  key: string;
}

export interface Material {
  /** The platform's CA bundle and the receiver's server certificate and key, written in `dir`. */
  files: { ca: string; cert: string; key: string };
  /** The CA of the receiver's server certificate (for `localhost` and 127.0.0.1); clients trust it. */
  serverCaPem: string;
  platform: Client & { certPem: string };
  /** Same subject, another CA. */
  other: Client;
  /** The platform's CA, another subject. */
  wrong: Client;
}

/** Real certificates from @hookwarden/pki for the gate tests, with the files the gate reads. */
export async function makeMaterial(dir: string): Promise<Material> {
  const platform = await createHierarchy({ subject: PLATFORM_DN, keyType: 'ec-p256' });
  const other = await createHierarchy({ subject: PLATFORM_DN, keyType: 'ec-p256', rootSubject: 'CN=Other Root' });
  const wrong = await issueCertificate(platform.intermediate, {
    subject: 'CN=intruder',
    usage: 'client',
    keyType: 'ec-p256',
  });
  const serverCa = await createSelfSignedCa({ subject: 'CN=Receiver CA', keyType: 'ec-p256' });
  const server = await issueCertificate(serverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    keyType: 'ec-p256',
  });
  const files = {
    ca: join(dir, 'platform-ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
  };
  writeFileSync(files.ca, caBundlePem(platform));
  writeFileSync(files.cert, server.certPem);
  writeFileSync(files.key, server.keyPem, { mode: 0o600 });
  return {
    files,
    serverCaPem: serverCa.certPem,
    platform: { chain: chainPem(platform), key: platform.leaf.keyPem, certPem: platform.leaf.certPem },
    other: { chain: chainPem(other), key: other.leaf.keyPem },
    wrong: { chain: wrong.certPem + platform.intermediate.certPem, key: wrong.keyPem },
  };
}
