/**
 * Delivery client throughput against its practical limit: a raw undici Agent sending the same
 * requests with the same TLS setup (client chain, trusted CA, cipher policy) and concurrency to the
 * same loopback HTTPS receiver that requires the client certificate. Two shapes: keep-alive (the
 * dispatcher's steady state) and a new connection per request (handshake cost, where the SSRF
 * guard and the handshake tap do their work).
 *
 *   node --import tsx bench/delivery.ts
 */
import { createServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { createDeliveryClient, DEFAULT_CIPHER_POLICY, nodeCipherString } from '@hookwarden/server/delivery';
import { listen } from '@hookwarden/testkit';
import { Agent } from 'undici';

const CONCURRENCY = 16;
const BODY = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_123', amount: 4200, note: 'x'.repeat(300) } });

async function drive(total: number, send: () => Promise<boolean>): Promise<number> {
  let next = 0;
  let failures = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        next++;
        if (!(await send())) failures++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  if (failures > 0) throw new Error(`${failures} requests failed`);
  return total / seconds;
}

export async function run(): Promise<void> {
  const receiverCa = await createSelfSignedCa({ subject: 'CN=Bench Receiver CA' });
  const server = await issueCertificate(receiverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const platform = await createHierarchy({ subject: 'CN=bench-client' });
  const identity = { certPem: platform.leaf.certPem, keyPem: platform.leaf.keyPem, chainPem: chainPem(platform) };

  let closeEach = false;
  const receiver = createServer(
    {
      key: server.keyPem,
      cert: server.certPem,
      ca: platform.root.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        if (closeEach) res.setHeader('connection', 'close');
        res.end('ok');
      });
    },
  );
  const port = await listen(receiver);
  const url = `https://localhost:${port}/hook`;
  const origin = `https://localhost:${port}`;

  const ours = createDeliveryClient({
    identity: () => identity,
    allowPrivateTargets: true,
    connectionsPerOrigin: CONCURRENCY,
  });
  const raw = new Agent({
    connections: CONCURRENCY,
    connect: {
      secureContext: createSecureContext({
        cert: identity.chainPem,
        key: identity.keyPem,
        ca: receiverCa.certPem,
        minVersion: DEFAULT_CIPHER_POLICY.minVersion,
        maxVersion: DEFAULT_CIPHER_POLICY.maxVersion,
        ciphers: nodeCipherString(DEFAULT_CIPHER_POLICY),
      }),
      servername: 'localhost',
    },
  });
  const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_bench' };
  const sendOurs = async () =>
    (await ours.deliver({ url, headers, body: BODY, tls: { serverCaPem: receiverCa.certPem } })).ok;
  const sendRaw = async () => {
    const res = await raw.request({ origin, path: '/hook', method: 'POST', headers, body: Buffer.from(BODY) });
    await res.body.text();
    return res.statusCode === 200;
  };

  const rows: [string, number, number][] = [];
  for (const [shape, total, close] of [
    ['keep-alive', 4000, false],
    ['new connection per request', 400, true],
  ] as const) {
    closeEach = close;
    // Warm both up, then alternate to share whatever the machine is doing.
    await drive(CONCURRENCY * 2, sendOurs);
    await drive(CONCURRENCY * 2, sendRaw);
    const rawRate = await drive(total, sendRaw);
    const ourRate = await drive(total, sendOurs);
    rows.push([shape, ourRate, rawRate]);
  }
  await ours.close();
  await raw.close();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));

  console.log(`delivery client vs raw undici, mTLS on loopback, concurrency ${CONCURRENCY}`);
  for (const [shape, ourRate, rawRate] of rows) {
    console.log(
      `  ${shape.padEnd(28)} ours ${ourRate.toFixed(0).padStart(6)}/s   raw undici ${rawRate.toFixed(0).padStart(6)}/s   ratio ${(ourRate / rawRate).toFixed(2)}`,
    );
  }
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
