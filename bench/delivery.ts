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
import { pathToFileURL } from 'node:url';
import { chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { createDeliveryClient } from '@hookwarden/server/delivery';
import { listen } from '@hookwarden/testkit';
import { drive } from './lib/load.ts';
import { rawAgent } from './lib/raw-agent.ts';

const CONCURRENCY = 16;
const BODY = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_123', amount: 4200, note: 'x'.repeat(300) } });

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
  const raw = rawAgent(identity, receiverCa.certPem, CONCURRENCY);
  const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_bench' };
  const sendOurs = async () =>
    (await ours.deliver({ url, headers, body: BODY, tls: { serverCaPem: receiverCa.certPem } })).ok;
  const sendRaw = async () => {
    const res = await raw.request({ origin, path: '/hook', method: 'POST', headers, body: Buffer.from(BODY) });
    await res.body.text();
    return res.statusCode === 200;
  };

  // Rounds alternate between the two so that load from elsewhere on the machine hits both alike;
  // the median round is reported.
  const ROUNDS = 3;
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: { shape: string; ours: number; raw: number; oursCpu: number; rawCpu: number }[] = [];
  for (const [shape, total, close] of [
    ['keep-alive', 1500, false],
    ['new connection per request', 150, true],
  ] as const) {
    closeEach = close;
    await drive(CONCURRENCY * 2, CONCURRENCY, sendOurs);
    await drive(CONCURRENCY * 2, CONCURRENCY, sendRaw);
    const ours: { rate: number; cpuUs: number }[] = [];
    const raw: { rate: number; cpuUs: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      raw.push(await drive(total, CONCURRENCY, sendRaw));
      ours.push(await drive(total, CONCURRENCY, sendOurs));
    }
    rows.push({
      shape,
      ours: median(ours.map((r) => r.rate)),
      raw: median(raw.map((r) => r.rate)),
      oursCpu: median(ours.map((r) => r.cpuUs)),
      rawCpu: median(raw.map((r) => r.cpuUs)),
    });
  }
  await ours.close();
  await raw.close();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));

  console.log(
    `delivery client vs raw undici, mTLS on loopback, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds`,
  );
  for (const r of rows) {
    console.log(
      `  ${r.shape.padEnd(28)} ours ${r.ours.toFixed(0).padStart(6)}/s  raw undici ${r.raw.toFixed(0).padStart(6)}/s  ratio ${(r.ours / r.raw).toFixed(2)}` +
        `   CPU/request ours ${r.oursCpu.toFixed(0)} µs, raw ${r.rawCpu.toFixed(0)} µs, ratio ${(r.rawCpu / r.oursCpu).toFixed(2)}`,
    );
  }
  console.log('  (ratios: ours ÷ raw for throughput, raw ÷ ours for CPU; 1.00 = at the practical limit)');
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
