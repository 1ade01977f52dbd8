/**
 * The dispatcher against its practical limit, and API ingestion against a bare Fastify handler.
 *
 * 1. A backlog of 20,000 messages for one loopback HTTPS receiver that requires the client
 *    certificate, best of three interleaved rounds after a warm-up. The dispatcher (lease claims,
 *    signing, delivery client, group-committed outcomes in SQLite/WAL on the store thread) drains
 *    it; a raw undici loop sends the same number of requests with the same TLS setup (client chain,
 *    trusted CA, cipher policy) and concurrency. Goal: ratio ≥ 0.8. Two more contenders locate the
 *    gap: the delivery client alone, and the dispatcher fed by a store stand-in that answers claims
 *    from memory and drops outcomes (the dispatcher's own cost, without the store's).
 * 2. Messages/s through POST /api/v1/app/{app}/msg (auth, validation, one transaction with fan-out)
 *    against a Fastify route that does nothing, both driven by the same undici loop. Goal: ≥ 0.5.
 * Peak RSS is sampled throughout.
 *
 *   node --import tsx bench/dispatch.ts
 */
import { createServer } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import {
  buildApi,
  type ClaimedDelivery,
  createDispatcher,
  type EndpointRow,
  hashToken,
  type MessageRow,
  newEndpoint,
  openSqliteStoreInWorker,
  type Store,
} from '@hookwarden/server';
import { createDeliveryClient, signedHeaders } from '@hookwarden/server/delivery';
import { listen, tempDir } from '@hookwarden/testkit';
import { createSigner, generateSecret } from '@hookwarden/verify/signature';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { settleHeap } from './lib/heap.ts';
import { drive as load } from './lib/load.ts';
import { rawAgent } from './lib/raw-agent.ts';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 20_000);
const INGEST = Number(process.env.BENCH_INGEST ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 64;
const CONNECTIONS = 16;
const PAYLOAD = { type: 'invoice.paid', data: { id: 'in_123', amount: 4200, note: 'x'.repeat(300) } };
const BODY = JSON.stringify(PAYLOAD);

let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

/**
 * A round's requests or deliveries per second, and this process's CPU time (every thread) per
 * request or delivery. Each round starts from a collected heap.
 */
type Round = { rate: number; cpuUs: number };
const drive = (total: number, concurrency: number, send: () => Promise<boolean>): Promise<Round> => {
  settleHeap();
  return load(total, concurrency, send);
};

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

export async function run(): Promise<void> {
  const sampler = setInterval(sample, 50);
  const dir = tempDir('hw-bench-');
  try {
    const receiverCa = await createSelfSignedCa({ subject: 'CN=Bench Receiver CA' });
    const serverCert = await issueCertificate(receiverCa, {
      subject: 'CN=localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    const platform = await createHierarchy({ subject: 'CN=bench-platform' });
    const identity = { certPem: platform.leaf.certPem, keyPem: platform.leaf.keyPem, chainPem: chainPem(platform) };

    let received = 0;
    const receiver = createServer(
      {
        key: serverCert.keyPem,
        cert: serverCert.certPem,
        ca: caBundlePem(platform),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        req.resume();
        req.on('end', () => {
          received++;
          res.end('ok');
        });
      },
    );
    const port = await listen(receiver);
    const url = `https://localhost:${port}/hook`;

    // --- the three contenders, same TLS setup (client chain, trusted CA, cipher policy), same
    // concurrency and connection count. Each runs a warm-up round, then ROUNDS measured rounds
    // interleaved (raw, client, dispatcher, raw, ...) so machine noise hits all alike; best of each.
    const raw = rawAgent(identity, receiverCa.certPem, CONNECTIONS);
    // Same headers as the dispatcher sends (a real Standard Webhooks signature of the same body with
    // the endpoint's secret), signed once here: the dispatcher signs every delivery, and that HMAC is
    // work the raw loop skips. Its cost is measured below and printed beside the ratio.
    const secret = generateSecret();
    const headers = {
      'content-type': 'application/json',
      ...signedHeaders({
        msgId: 'msg_00000000',
        timestamp: Math.floor(Date.now() / 1000),
        body: BODY,
        secrets: [secret],
      }),
    };
    const rawRound = (n: number) =>
      drive(n, CONCURRENCY, async () => {
        const res = await raw.request({
          origin: `https://localhost:${port}`,
          path: '/hook',
          method: 'POST',
          headers,
          body: BODY,
        });
        await res.body.dump();
        return res.statusCode === 200;
      });

    // The delivery client alone, same loop: separates transport cost from queue cost.
    const bare = createDeliveryClient({
      identity: () => identity,
      allowPrivateTargets: true,
      connectionsPerOrigin: CONNECTIONS,
    });
    const tls = { serverCaPem: receiverCa.certPem };
    const clientRound = (n: number) =>
      drive(n, CONCURRENCY, async () => {
        const o = await bare.deliver({ url, headers, body: BODY, tls });
        return o.ok;
      });

    // The dispatcher draining a backlog.
    const store = openSqliteStoreInWorker(join(dir.path, 'bench.db'));
    const now = Date.now();
    await store.createApplication({ id: 'app_bench', uid: null, name: 'bench', metadata: {}, rateLimit: null }, now);
    await store.createEndpoint(
      { ...newEndpoint({ id: 'ep_bench', appId: 'app_bench', url, secret }), serverCaPem: receiverCa.certPem },
      now,
    );
    const client = createDeliveryClient({
      identity: () => identity,
      allowPrivateTargets: true,
      connectionsPerOrigin: CONNECTIONS,
    });
    let seeded = 0;
    const message = (id: string): MessageRow => ({
      id,
      appId: 'app_bench',
      eventType: 'invoice.paid',
      eventId: null,
      channels: null,
      tags: null,
      payload: BODY,
      createdAt: now,
    });
    const seed = async (n: number) => {
      // Enqueued before the clock starts, in one group-committed burst.
      await Promise.all(
        Array.from({ length: n }, () => store.createMessage(message(`msg_${String(seeded++).padStart(8, '0')}`), {})),
      );
    };
    const endpoint = (await store.getEndpoint('app_bench', 'ep_bench')) as EndpointRow;
    /**
     * The store stand-in: claims are answered from memory (n rows of the same endpoint, fresh
     * message objects), outcomes are dropped. What the dispatcher costs without any store; its rows
     * come unsigned, so the dispatcher signs them on the main thread (the SQLite store's thread signs
     * its claims ahead, see delivery/signing.ts).
     */
    const memoryStore = (n: number): Store => {
      let next = 0;
      return {
        ...store,
        async claimDeliveries(o) {
          const rows: ClaimedDelivery[] = [];
          for (; rows.length < o.limit && next < n; next++) {
            rows.push({
              id: next,
              attempts: 0,
              triggerType: 0,
              message: message(`msg_mem_${next}`),
              endpoint,
              rateLimit: null,
            });
          }
          return rows;
        },
        async recordOutcomes() {},
        async nextDueAt() {
          return undefined;
        },
        async releaseLeases() {
          return 0;
        },
      };
    };
    const dispatchRound = async (n: number, source: 'sqlite' | 'memory') => {
      if (source === 'sqlite') await seed(n);
      let recorded = 0;
      let failed = 0;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const dispatcher = createDispatcher({
        store: source === 'sqlite' ? store : memoryStore(n),
        client,
        concurrency: CONCURRENCY,
        perEndpointConcurrency: CONCURRENCY,
        batchSize: CONCURRENCY,
        onRecorded: (batch) => {
          recorded += batch.length;
          failed += batch.filter((o) => o.attempt.status !== 0).length;
          if (recorded >= n) done();
        },
      });
      received = 0;
      settleHeap();
      const cpu = process.cpuUsage();
      const start = performance.now();
      dispatcher.start();
      await finished;
      const rate = n / ((performance.now() - start) / 1000);
      const used = process.cpuUsage(cpu);
      await dispatcher.stop();
      if (failed > 0 || received < n) throw new Error(`${failed} failed deliveries, ${received} received`);
      return { rate, cpuUs: (used.user + used.system) / n };
    };

    const warm = Math.min(2000, BACKLOG);
    await rawRound(warm);
    await clientRound(warm);
    await dispatchRound(warm, 'sqlite');
    await dispatchRound(warm, 'memory');
    const raws: number[] = [];
    const clients: number[] = [];
    const dispatches: number[] = [];
    const memories: number[] = [];
    const rawCpu: number[] = [];
    const dispatchCpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const rawRun = await rawRound(BACKLOG);
      raws.push(rawRun.rate);
      rawCpu.push(rawRun.cpuUs);
      clients.push((await clientRound(BACKLOG)).rate);
      const dispatchRun = await dispatchRound(BACKLOG, 'sqlite');
      dispatches.push(dispatchRun.rate);
      dispatchCpu.push(dispatchRun.cpuUs);
      memories.push((await dispatchRound(BACKLOG, 'memory')).rate);
    }
    const rawRate = Math.max(...raws);
    const clientRate = Math.max(...clients);
    const dispatchRate = Math.max(...dispatches);
    const memoryRate = Math.max(...memories);
    // Each round's own ratio: its raw loop and dispatcher ran seconds apart, so a slow spell of the
    // machine weighs on both, where the best of each may come from different spells.
    const roundRatios = dispatches.map((d, i) => d / (raws[i] as number));
    await raw.close();
    await bare.close();
    await client.close();
    await store.close();

    // --- ingestion through the API vs a bare Fastify handler ---
    const token = 'bench-admin-token-0123456789';
    const apiStore = openSqliteStoreInWorker(join(dir.path, 'ingest.db'));
    const api = buildApi({
      store: apiStore,
      adminTokenHash: hashToken(token),
      now: Date.now,
      publicUrl: 'http://127.0.0.1',
      checkEndpointUrl: async () => {},
      onEnqueued: () => {},
      trust: async () => undefined,
    });
    await api.listen({ port: 0, host: '127.0.0.1' });
    const apiPort = (api.server.address() as { port: number }).port;
    const bareApi = Fastify();
    bareApi.post('/api/v1/app/:app_id/msg', async (_req, reply) => reply.code(202).send({}));
    await bareApi.listen({ port: 0, host: '127.0.0.1' });
    const barePort = (bareApi.server.address() as { port: number }).port;

    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const appRes = await fetch(`http://127.0.0.1:${apiPort}/api/v1/app`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'ingest' }),
    });
    const appId = ((await appRes.json()) as { id: string }).id;
    await fetch(`http://127.0.0.1:${apiPort}/api/v1/app/${appId}/endpoint`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ url: 'https://receiver.example/hook' }),
    });
    const msgBody = JSON.stringify({ eventType: 'invoice.paid', payload: PAYLOAD });
    const ingest = async (p: number, count = INGEST) => {
      const pool = new Pool(`http://127.0.0.1:${p}`, { connections: CONNECTIONS });
      const { rate } = await drive(count, CONCURRENCY, async () => {
        const res = await pool.request({
          path: `/api/v1/app/${appId}/msg`,
          method: 'POST',
          headers: auth,
          body: msgBody,
        });
        await res.body.dump();
        return res.statusCode === 202;
      });
      await pool.close();
      return rate;
    };
    // Warm-up of both servers and the load generator (JIT), then interleaved rounds to spread machine noise.
    await ingest(barePort, 2000);
    await ingest(apiPort, 2000);
    let bareRate = 0;
    let apiRate = 0;
    for (let r = 0; r < ROUNDS; r++) {
      bareRate = Math.max(bareRate, await ingest(barePort));
      apiRate = Math.max(apiRate, await ingest(apiPort));
    }
    await api.close();
    await bareApi.close();
    await apiStore.close();
    await new Promise((resolve) => receiver.close(resolve));
    sample();

    // The signing the raw loop skips, per delivery, on this machine now.
    const SIGNS = 20_000;
    const signStart = performance.now();
    // As the dispatcher signs: with the endpoint's signer, its secret decoded once.
    const signer = createSigner([secret]);
    for (let i = 0; i < SIGNS; i++) signer(`msg_${i}`, 1_700_000_000, BODY);
    const signUs = ((performance.now() - signStart) * 1000) / SIGNS;
    const ratio = dispatchRate / rawRate;
    const ingestRatio = apiRate / bareRate;
    console.log(
      `dispatch: ${fmt(BACKLOG)} deliveries over mTLS, concurrency ${CONCURRENCY}, ${CONNECTIONS} connections, best of ${ROUNDS} after warm-up`,
    );
    console.log(`  raw undici loop   ${fmt(rawRate)} req/s`);
    console.log(`  delivery client   ${fmt(clientRate)} req/s       ratio ${(clientRate / rawRate).toFixed(2)}`);
    console.log(`  dispatcher        ${fmt(dispatchRate)} deliveries/s   ratio ${ratio.toFixed(2)} (goal ≥ 0.80)`);
    console.log(
      `  (each round's dispatcher ÷ raw: ${roundRatios.map((r) => r.toFixed(2)).join(', ')}; median ${median(roundRatios).toFixed(2)})`,
    );
    console.log(
      `  (dispatcher, store answered from memory: ${fmt(memoryRate)} deliveries/s, ratio ${(memoryRate / rawRate).toFixed(2)})`,
    );
    // The receiver runs in this process too. With a core to spare the dispatcher's store thread
    // runs beside the main thread; on a busy machine every thread's CPU counts, and the ratio
    // falls towards raw ÷ dispatcher CPU.
    const cpuRatio = median(dispatchCpu) / median(rawCpu);
    console.log(
      `  (CPU per delivery, all threads, receiver included: raw ${median(rawCpu).toFixed(0)} µs, dispatcher ${median(dispatchCpu).toFixed(0)} µs, ${cpuRatio.toFixed(2)}×: with no core to spare the ratio tends to ${(1 / cpuRatio).toFixed(2)})`,
    );
    console.log(
      `  (raw loop and client send one precomputed signature; each delivery is signed, ${signUs.toFixed(1)} µs of HMAC, ${((signUs * rawRate) / 1e4).toFixed(0)}% of the raw loop's time per request: on the store's thread with SQLite, on the main thread with claims from memory)`,
    );
    console.log(
      `ingestion: ${fmt(INGEST)} messages, concurrency ${CONCURRENCY}, best of ${ROUNDS} interleaved runs each`,
    );
    console.log(`  bare Fastify      ${fmt(bareRate)} req/s`);
    console.log(`  POST .../msg      ${fmt(apiRate)} msgs/s       ratio ${ingestRatio.toFixed(2)} (goal ≥ 0.50)`);
    console.log(`peak RSS: ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
  } finally {
    clearInterval(sampler);
    dir.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
