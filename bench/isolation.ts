/**
 * Delivery isolation: how much hostile endpoints (hang, endless body, dribbled headers, a megabyte
 * of headers, no TLS; testkit's hostile.ts, in a process of their own) slow the callbacks of good
 * ones. Each round starts a server on its defaults (the real delivery timeouts), gives each hostile
 * endpoint a backlog of 50 messages, then sends 100 messages to each of 10 good endpoints at a
 * steady pace through the API and times each from its POST to its arrival at the receiver.
 * Printed: good endpoints' p50 / p99 latency and deliveries per second with 0, 5 and 50 hostile
 * endpoints, as ratios to the 0 case of the same run (rounds interleaved, median of each).
 * Goal: p99 with 50 hostile endpoints at most 2x the clean run's.
 *
 *   npm run bench -- isolation
 */
import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { identityFromPem, type RunningServer, startServer } from '@hookwarden/server';
import { listen, tempDir } from '@hookwarden/testkit';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GOOD = 10;
const GOOD_MESSAGES = 100;
const HOSTILE_MESSAGES = 50;
const SCENARIOS = [0, 5, 50];
/** Good messages sent per tick, and the tick: 500 a second. */
const PER_TICK = 5;
const TICK_MS = 10;
const TOKEN = 'bench-isolation-admin-token-0123456789';

type Round = { p50: number; p99: number; rate: number; peakRssMiB: number };

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function run(): Promise<void> {
  const receiverCa = await createSelfSignedCa({ subject: 'CN=Bench Receiver CA' });
  const cert = await issueCertificate(receiverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const h = await createHierarchy({ subject: 'CN=bench-platform' });
  const identity = identityFromPem({
    certPem: h.leaf.certPem,
    keyPem: h.leaf.keyPem,
    chainPem: chainPem(h),
    caBundlePem: caBundlePem(h),
  });

  // Good receivers in this process: they answer at once and note when each webhook-id arrived.
  const arrivedAt = new Map<string, number>();
  let onArrival = () => {};
  const good: { server: Server; url: string }[] = [];
  for (let i = 0; i < GOOD; i++) {
    const server = createServer(
      { key: cert.keyPem, cert: cert.certPem, ca: caBundlePem(h), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        req.resume();
        req.on('end', () => {
          arrivedAt.set(String(req.headers['webhook-id']), performance.now());
          res.end('ok');
          onArrival();
        });
      },
    );
    good.push({ server, url: `https://127.0.0.1:${await listen(server)}/hook` });
  }

  const child = fork(fileURLToPath(new URL('./lib/hostile-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.send({ count: Math.max(...SCENARIOS), certPem: cert.certPem, keyPem: cert.keyPem });
  const hostileUrls = await new Promise<string[]>((resolve) => child.once('message', (m) => resolve(m as string[])));

  async function round(hostileCount: number): Promise<Round> {
    const dir = tempDir('hw-bench-iso-');
    const server: RunningServer = await startServer({
      port: 0,
      dataDir: dir.path,
      adminToken: TOKEN,
      identity: () => identity,
      allowPrivateTargets: true,
      logLevel: 'silent',
    });
    const call = async (path: string, body: unknown) => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string };
    };
    const appFor = async (url: string) => {
      const app = await call('/api/v1/app', { name: url });
      await call(`/api/v1/app/${app.id}/endpoint`, { url, serverCa: receiverCa.certPem });
      return app.id;
    };
    const hostileApps = await Promise.all(hostileUrls.slice(0, hostileCount).map(appFor));
    const goodApps = await Promise.all(good.map((g) => appFor(g.url)));
    // The hostile backlog first, in batches.
    const backlog = hostileApps.flatMap((app) => Array(HOSTILE_MESSAGES).fill(app) as string[]);
    for (let i = 0; i < backlog.length; i += 100) {
      await Promise.all(
        backlog.slice(i, i + 100).map((app) => call(`/api/v1/app/${app}/msg`, { eventType: 'e', payload: {} })),
      );
    }

    arrivedAt.clear();
    const sentAt = new Map<string, number>();
    const total = GOOD * GOOD_MESSAGES;
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const allArrived = new Promise<void>((resolve) => {
      onArrival = () => {
        if (arrivedAt.size >= total) resolve();
      };
    });
    const start = performance.now();
    let sent = 0;
    const sends: Promise<void>[] = [];
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let k = 0; k < PER_TICK && sent < total; k++, sent++) {
          const app = goodApps[sent % GOOD] as string;
          const t = performance.now();
          sends.push(
            call(`/api/v1/app/${app}/msg`, { eventType: 'e', payload: { n: sent } }).then((m) => {
              sentAt.set(m.id, t);
            }),
          );
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    await Promise.all(sends);
    await allArrived;
    const end = Math.max(...arrivedAt.values());
    clearInterval(sampler);
    const latencies = [...sentAt].map(([id, t]) => (arrivedAt.get(id) as number) - t).sort((a, b) => a - b);
    await server.close({ deadlineMs: 0 });
    dir.cleanup();
    return {
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      rate: total / ((end - start) / 1000),
      peakRssMiB: peakRss / 2 ** 20,
    };
  }

  try {
    await round(0); // warm-up: JIT, TLS session caches of the receivers
    const results = new Map<number, Round[]>(SCENARIOS.map((n) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of SCENARIOS) results.get(n)?.push(await round(n));
    }
    const summary = new Map(
      SCENARIOS.map((n) => {
        const rs = results.get(n) as Round[];
        return [
          n,
          {
            p50: median(rs.map((x) => x.p50)),
            p99: median(rs.map((x) => x.p99)),
            rate: median(rs.map((x) => x.rate)),
            rss: Math.max(...rs.map((x) => x.peakRssMiB)),
          },
        ];
      }),
    );
    const clean = summary.get(0) as { p50: number; p99: number; rate: number };
    console.log(
      `isolation: ${GOOD} good endpoints × ${GOOD_MESSAGES} messages at ${(PER_TICK * 1000) / TICK_MS}/s, beside hostile endpoints with ${HOSTILE_MESSAGES} each; server defaults; median of ${ROUNDS} interleaved rounds`,
    );
    for (const [n, s] of summary) {
      console.log(
        `  ${String(n).padStart(2)} hostile   p50 ${s.p50.toFixed(1)} ms (${(s.p50 / clean.p50).toFixed(2)}×)   p99 ${s.p99.toFixed(1)} ms (${(s.p99 / clean.p99).toFixed(2)}×)   ${s.rate.toFixed(0)} deliveries/s (${(s.rate / clean.rate).toFixed(2)}×)   peak RSS ${s.rss.toFixed(0)} MiB`,
      );
    }
    const worst = summary.get(50) as { p99: number };
    console.log(`  p99 with 50 hostile ÷ clean: ${(worst.p99 / clean.p99).toFixed(2)} (goal ≤ 2.00)`);
    for (const n of SCENARIOS) {
      console.log(
        `  (${n} hostile, each round's p99: ${(results.get(n) as Round[]).map((x) => x.p99.toFixed(1)).join(', ')} ms)`,
      );
    }
  } finally {
    child.kill();
    for (const g of good) {
      g.server.closeAllConnections();
      g.server.close();
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
