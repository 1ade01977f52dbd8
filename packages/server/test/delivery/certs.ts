import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';

/**
 * Certificates for the loopback TLS tests, from the project's own PKI: a receiver CA and its server
 * certificate (localhost, receiver.test, 127.0.0.1), the platform's root → intermediate → client
 * leaf, and an unrelated CA a receiver may trust instead of ours.
 */
export interface TestPki {
  serverCa: string;
  server: { cert: string; key: string };
  platformRoot: string;
  /** What the trust document publishes: intermediate then root. */
  platformBundle: string;
  client: { certPem: string; keyPem: string; chainPem: string };
  /** The same platform, an RSA-2048 leaf (the default leaf is EC P-256). */
  rsaClient: { certPem: string; keyPem: string; chainPem: string };
  otherCa: string;
}

export async function makeTestPki(): Promise<TestPki> {
  const receiverCa = await createSelfSignedCa({ subject: 'CN=Receiver Test CA', validityDays: 2 });
  const server = await issueCertificate(receiverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost', 'receiver.test'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    validityDays: 2,
  });
  const platform = await createHierarchy({ subject: 'CN=hookwarden-test-client,O=Hookwarden Tests', validityDays: 2 });
  const rsa = await issueCertificate(platform.intermediate, {
    subject: 'CN=hookwarden-test-client-rsa',
    keyType: 'rsa-2048',
    validityDays: 2,
  });
  const other = await createSelfSignedCa({ subject: 'CN=Someone Else CA', validityDays: 2 });
  return {
    serverCa: receiverCa.certPem,
    server: { cert: server.certPem, key: server.keyPem },
    platformRoot: platform.root.certPem,
    platformBundle: caBundlePem(platform),
    client: { certPem: platform.leaf.certPem, keyPem: platform.leaf.keyPem, chainPem: chainPem(platform) },
    rsaClient: { certPem: rsa.certPem, keyPem: rsa.keyPem, chainPem: rsa.certPem + platform.intermediate.certPem },
    otherCa: other.certPem,
  };
}
