import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { identityFromPem } from '../../src/identity/from-pem.ts';
import type { PlatformIdentity } from '../../src/server.ts';

/** The platform's client identity and a receiver's private CA with a localhost server certificate. */
export async function testPki(): Promise<{
  platform: PlatformIdentity;
  receiverCaPem: string;
  server: { certPem: string; keyPem: string };
}> {
  const h = await createHierarchy({
    subject: 'CN=hooks.hookwarden.test,O=Hookwarden Test',
    dnsNames: ['hooks.hookwarden.test'],
  });
  const platform = identityFromPem({
    certPem: h.leaf.certPem,
    keyPem: h.leaf.keyPem,
    chainPem: chainPem(h),
    caBundlePem: caBundlePem(h),
  });
  const receiverCa = await createSelfSignedCa({ subject: 'CN=Receiver Test CA' });
  const server = await issueCertificate(receiverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  return { platform, receiverCaPem: receiverCa.certPem, server };
}

export { type Received, startReceiver, waitFor } from '@hookwarden/testkit';

/** One call to the server's API as the tests make it: JSON in, the status and parsed JSON out. */
export async function callApi(baseUrl: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
