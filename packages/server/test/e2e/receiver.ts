import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { tempDir } from '@hookwarden/testkit';
import { pino } from 'pino';
import { identityFromPem } from '../../src/identity/from-pem.ts';
import { type PlatformIdentity, type ServerOptions, startServer } from '../../src/server.ts';
import type { Store } from '../../src/store/types.ts';

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

import { type Received, startReceiver } from '@hookwarden/testkit';

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

/**
 * A whole server (API and dispatcher) on a temporary data directory, allowed to deliver to
 * loopback, with the test PKI's platform identity, and an mTLS receiver that trusts it.
 * `recorded()` counts the attempts the dispatcher has recorded; `onRecorded` waits for more.
 * `store`: a store of the test's own instead (closed with the server).
 */
export async function startServerWithReceiver(o: {
  token: string;
  respond?: (r: Received) => number | Promise<number>;
  egressCidrs?: string[];
  logger?: pino.Logger;
  portal?: ServerOptions['portal'];
  store?: Store;
  storageProbeMs?: number;
}) {
  const pki = await testPki();
  const receiver = await startReceiver({
    server: pki.server,
    clientCaPem: pki.platform.caBundlePem,
    ...(o.respond ? { respond: o.respond } : {}),
  });
  const dir = tempDir();
  const server = await startServer({
    port: 0,
    ...(o.store ? { store: o.store } : { dataDir: dir.path }),
    ...(o.storageProbeMs !== undefined ? { storageProbeMs: o.storageProbeMs } : {}),
    adminToken: o.token,
    identity: () => pki.platform,
    allowPrivateTargets: true,
    ...(o.egressCidrs ? { egressCidrs: o.egressCidrs } : {}),
    logger: o.logger ?? pino({ level: 'silent' }),
    ...(o.portal !== undefined ? { portal: o.portal } : {}),
  });
  let recorded = 0;
  server.events.on('recorded', (outcomes: unknown[]) => {
    recorded += outcomes.length;
  });
  return {
    pki,
    receiver,
    server,
    recorded: () => recorded,
    onRecorded: (fn: () => void) => server.events.on('recorded', fn),
    async close() {
      await server.close({ deadlineMs: 1000 });
      await o.store?.close();
      await receiver.close();
      dir.cleanup();
    },
  };
}
