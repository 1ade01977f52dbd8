import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CertKey,
  caBundlePem,
  chainPem,
  createHierarchy,
  createSelfSignedCa,
  fingerprints,
  issueCertificate,
} from '@hookwarden/pki';

/** The platform's subject, with characters that must survive every proxy's escaping. */
export const PLATFORM_DN = 'CN=hooks.platform.test,O=Acme\\, Inc. \\"$x\\",C=US';

export interface Client {
  /** Leaf + intermediates, as the platform presents them. */
  chain: string;
  key: string;
}

export interface Material {
  platform: Client & { sha1Hex: string; sha256Hex: string };
  /** The platform's subject as written in the policy and in check-mode options. */
  platformDn: string;
  /** Same CA, another subject. */
  wrongDn: Client;
  /** Another CA altogether, same subject as the platform. */
  otherCa: Client;
  /** The receiver's server certificate is issued by this CA; clients trust it. */
  serverCaPem: string;
  paths: { caBundle: string; serverCert: string; serverKey: string };
}

function client(h: { leaf: CertKey; intermediate: CertKey; root: CertKey }): Client {
  return { chain: chainPem(h), key: h.leaf.keyPem };
}

/** Real certificates from @hookwarden/pki, written where a proxy can read them. */
export async function makeMaterial(dir: string): Promise<Material> {
  const platform = await createHierarchy({ subject: PLATFORM_DN, keyType: 'ec-p256' });
  const other = await createHierarchy({
    subject: PLATFORM_DN,
    keyType: 'ec-p256',
    rootSubject: 'CN=Impostor Root',
    intermediateSubject: 'CN=Impostor Intermediate',
  });
  const wrong = await issueCertificate(platform.intermediate, {
    subject: 'CN=someone-else.example,O=Acme\\, Inc.,C=US',
    usage: 'client',
    keyType: 'ec-p256',
  });
  const serverCa = await createSelfSignedCa({ subject: 'CN=Receiver Test CA', keyType: 'ec-p256' });
  const server = await issueCertificate(serverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    keyType: 'ec-p256',
  });
  const paths = {
    caBundle: join(dir, 'platform-ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.pem.key'),
  };
  writeFileSync(paths.caBundle, caBundlePem(platform));
  writeFileSync(paths.serverCert, server.certPem);
  writeFileSync(paths.serverKey, server.keyPem, { mode: 0o600 });
  const fp = fingerprints(platform.leaf.certPem);
  return {
    platform: { ...client(platform), sha1Hex: fp.sha1Hex, sha256Hex: fp.sha256Hex },
    platformDn: PLATFORM_DN,
    wrongDn: { chain: `${wrong.certPem}${platform.intermediate.certPem}`, key: wrong.keyPem },
    otherCa: client(other),
    serverCaPem: serverCa.certPem,
    paths,
  };
}

export interface UpstreamMaterial {
  /** The CA that issued the app's certificate, given to the proxy as the upstream's CA bundle. */
  caPath: string;
  /** localhost, from that CA: what the proxy must accept. */
  right: Client;
  /** Same CA, another name. */
  wrongName: Client;
  /** localhost, from a CA the proxy was not told to trust. */
  untrusted: Client;
}

/** Certificates for an https app behind the proxy (`https://localhost:port`). */
export async function makeUpstreamMaterial(dir: string): Promise<UpstreamMaterial> {
  const ca = await createSelfSignedCa({ subject: 'CN=App Test CA', keyType: 'ec-p256' });
  const stranger = await createSelfSignedCa({ subject: 'CN=Stranger CA', keyType: 'ec-p256' });
  const server = async (issuer: CertKey, name: string): Promise<Client> => {
    const c = await issueCertificate(issuer, {
      subject: `CN=${name}`,
      dnsNames: [name],
      usage: 'server',
      keyType: 'ec-p256',
    });
    return { chain: c.certPem, key: c.keyPem };
  };
  const caPath = join(dir, 'app-ca.pem');
  writeFileSync(caPath, ca.certPem);
  return {
    caPath,
    right: await server(ca, 'localhost'),
    wrongName: await server(ca, 'app.other.test'),
    untrusted: await server(stranger, 'localhost'),
  };
}
