/**
 * Gate throughput: requests per second through `hookwarden gate` (behind-a-proxy mode: nginx headers,
 * with and without the escaped certificate; chain + subject + fingerprint checked; keep-alive both
 * sides) against calling the same upstream directly and against a bare Node proxy hop that checks
 * nothing, in the same run. Goal of issue 3: gate ≥ 0.7 × direct.
 *
 * Fair on a small shared machine: the upstream runs in a worker thread, the gate and the bare hop in
 * their own processes (the real command) with stdout discarded; a fixed number of requests in flight;
 * a warm-up; rounds alternate between modes and the best round of each counts, for throughput and for
 * the CPU per request of the proxy process (/proc). Loopback only.
 *
 * On 2 cores no proxy can reach 0.7 × direct: direct keeps two threads busy (load, upstream), a proxied
 * request three, and the bare hop measures ~0.4. What the gate controls is its share of that hop.
 * Measured on the 2-core development box (shared with other work; ranges over several runs):
 *   before  gate 0.22 of direct, with the certificate 0.03 (793 µs CPU/req: chain checked per request)
 *   after   gate 0.29-0.33 of direct, 0.73-0.77 of the bare hop's req/s (56-62 µs CPU/req);
 *           with the certificate 0.28-0.34 of direct, 0.66-0.80 of the bare hop (60-68 µs CPU/req)
 *
 *   node --import tsx bench/gate.ts
 */
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { caBundlePem, createHierarchy, fingerprints } from '@hookwarden/pki';
import { type Daemon, startDaemon, tempDir } from '@hookwarden/testkit';
import { Pool } from 'undici';

const REQUESTS = 5000;
const WARMUP = 1000;
const CONCURRENCY = 32;
const ROUNDS = 5;
const SUBJECT = 'CN=hooks.platform.test,O=Acme\\, Inc.,C=US';
const BIN = fileURLToPath(new URL('../packages/cli/bin/hookwarden.js', import.meta.url));

const UPSTREAM = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 }).end('{"ok":true}'));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', (m) => { if (m === 'close') { server.closeAllConnections(); server.close(() => process.exit(0)); } });
`;

// The practical limit for any Node reverse proxy: forward with a keep-alive agent, check nothing.
// Its own process, like the gate, so both are measured the same way.
const BARE_PROXY = `
const { createServer, request, Agent } = require('node:http');
const upstreamPort = Number(process.argv[1]);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const server = createServer((req, res) => {
  const up = request({ agent, host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
`;

/**
 * CPU seconds a process has used (user + system, from /proc). The machine running this may be shared:
 * CPU per request is what the gate costs, whatever else competes for the cores.
 */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function startWorker(code: string): Promise<{ port: number; stop(): Promise<void> }> {
  const worker = new Worker(code, { eval: true });
  const [port] = (await once(worker, 'message')) as [number];
  return {
    port,
    async stop() {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}

/**
 * A server process on a port we pick, its stdout discarded: the gate's JSON log still costs the gate
 * its writes, but draining a pipe would tax the load generator in the gate's rounds only.
 */
function startProcess(args: (port: number) => string[]): Promise<Daemon> {
  return startDaemon(process.execPath, args);
}

/** `count` requests, at most CONCURRENCY in flight, over kept-alive connections; returns requests/s. */
async function load(port: number, count: number, headers: Record<string, string>, body: string): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        const res = await pool.request({ method: 'POST', path: '/hooks', headers, body });
        await res.body.text();
        if (res.statusCode !== 200) failures++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.close();
  if (failures > 0) throw new Error(`${failures} of ${count} requests failed`);
  return count / seconds;
}

export async function run(): Promise<void> {
  const dir = tempDir('hw-bench-gate-');
  const platform = await createHierarchy({ subject: SUBJECT, keyType: 'ec-p256' });
  const caPath = join(dir.path, 'platform-ca.pem');
  writeFileSync(caPath, caBundlePem(platform));
  const upstream = await startWorker(UPSTREAM);
  const bare = await startProcess((port) => ['-e', BARE_PROXY, String(upstream.port), String(port)]);
  const gateArgs = ['--upstream', `http://127.0.0.1:${upstream.port}`, '--trust-proxy', '127.0.0.1/32'];
  const gate = await startProcess((port) => [
    BIN,
    'gate',
    '--listen',
    `127.0.0.1:${port}`,
    ...gateArgs,
    '--proxy-headers',
    'nginx',
    '--client-ca',
    caPath,
    '--require-subject',
    SUBJECT,
  ]);
  // What nginx in front of the gate sends for the platform's certificate: first the DN and SHA-1
  // only, then with the escaped certificate too, which makes the verifier check the chain.
  const nginx = {
    'content-type': 'application/json',
    'x-ssl-client-verify': 'SUCCESS',
    'x-ssl-client-subject-dn': SUBJECT,
    'x-ssl-client-fingerprint': fingerprints(platform.leaf.certPem).sha1Hex,
    'x-forwarded-for': '203.0.113.9',
    'x-forwarded-proto': 'https',
  };
  const withCert = { ...nginx, 'x-ssl-client-cert': encodeURIComponent(platform.leaf.certPem) };
  const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', amount: 4200 } });
  try {
    for (const port of [upstream.port, bare.port, gate.port]) await load(port, WARMUP, withCert, body);
    // Each proxied mode is compared with direct and with the bare hop carrying the same headers: the
    // escaped certificate adds ~1.3 KB that every hop parses and forwards.
    interface Mode {
      name: string;
      port: number;
      headers: Record<string, string>;
      pid?: number | undefined;
      direct?: string;
      bare?: string;
    }
    const modes: Record<string, Mode> = {
      direct: { name: 'direct to the upstream', port: upstream.port, headers: nginx },
      bare: { name: 'bare proxy hop (checks nothing)', port: bare.port, headers: nginx, pid: bare.child.pid },
      gate: {
        name: 'gate: DN + SHA-1',
        port: gate.port,
        headers: nginx,
        pid: gate.child.pid,
        direct: 'direct',
        bare: 'bare',
      },
      directCert: { name: 'direct, + certificate header', port: upstream.port, headers: withCert },
      bareCert: {
        name: 'bare proxy hop, + certificate header',
        port: bare.port,
        headers: withCert,
        pid: bare.child.pid,
        direct: 'directCert',
      },
      gateCert: {
        name: 'gate: + certificate (chain, purpose, SANs)',
        port: gate.port,
        headers: withCert,
        pid: gate.child.pid,
        direct: 'directCert',
        bare: 'bareCert',
      },
    };
    modes.bare!.direct = 'direct';
    const best: Record<string, number> = {};
    // CPU seconds per round, least first like throughput: /proc counts in 10 ms ticks, and the least
    // disturbed round is the one where the proxy's own work shows.
    const cpu: Record<string, number> = {};
    // Alternating rounds, best of each: the machine is shared, and the best round is the least disturbed.
    for (let i = 0; i < ROUNDS; i++) {
      for (const [key, mode] of Object.entries(modes)) {
        const before = cpuSeconds(mode.pid);
        best[key] = Math.max(best[key] ?? 0, await load(mode.port, REQUESTS, mode.headers, body));
        if (mode.pid !== undefined) {
          cpu[key] = Math.min(cpu[key] ?? Number.POSITIVE_INFINITY, cpuSeconds(mode.pid) - before);
        }
      }
    }
    const us = (key: string) => (cpu[key]! / REQUESTS) * 1e6;
    console.log(
      `gate throughput: ${REQUESTS} requests x ${ROUNDS} rounds, ${CONCURRENCY} in flight, keep-alive, best round`,
    );
    for (const [key, mode] of Object.entries(modes)) {
      let line = `  ${mode.name.padEnd(44)} ${best[key]!.toFixed(0).padStart(7)} req/s`;
      if (mode.direct) line += `  ${(best[key]! / best[mode.direct]!).toFixed(2)} of direct`;
      if (mode.pid !== undefined) line += `  ${us(key).toFixed(0).padStart(4)} µs CPU/req`;
      if (mode.bare) {
        line += `  ${(best[key]! / best[mode.bare]!).toFixed(2)} of the bare hop's req/s,`;
        line += ` ${(us(mode.bare) / us(key)).toFixed(2)} of its CPU efficiency`;
      }
      console.log(line);
    }
    const ratio = best.gate! / best.direct!;
    console.log(`  goal gate >= 0.70 x direct: ${ratio >= 0.7 ? 'met' : 'NOT met'} (${ratio.toFixed(2)})`);
    console.log(
      `  bound: the bare hop reaches ${(best.bare! / best.direct!).toFixed(2)} of direct on ${availableParallelism()} core(s);` +
        ' no proxy in front of the upstream can do better here',
    );
    console.log('  (CPU efficiency = bare hop µs / gate µs per request, with the same headers)');
  } finally {
    await Promise.all([gate.stop(), bare.stop()]);
    await upstream.stop();
    dir.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();
