/**
 * The endpoint checker's own time against sslscan's whole run on the same local nginx, in the same
 * run, and the CLI's wall time. sslscan is C and probes one suite at a time; the checker probes in
 * parallel, so the goal is to stay within 2× of sslscan and to finish the CLI under 5 s on loopback.
 *
 *   node --import tsx bench/check.ts
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caBundlePem, chainPem, createHierarchy, issueCertificate } from '@hookwarden/pki';
import { runCheck } from '@hookwarden/server/checker';
import { startNginx, tempDir, which } from '@hookwarden/testkit';

const ROUNDS = 5;

function timed(cmd: string, args: string[]): Promise<{ ms: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ms: performance.now() - start, code }));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  if (!which('nginx') || !which('sslscan')) {
    console.log('check: skipped (needs nginx and sslscan)');
    return;
  }
  const dir = tempDir('hw-bench-check-');
  const platform = await createHierarchy({ subject: 'CN=callbacks.hookwarden.test,O=Hookwarden' });
  const receiver = await createHierarchy({ subject: 'CN=unused', rootSubject: 'CN=Receiver Root' });
  const leaf = await issueCertificate(receiver.intermediate, {
    subject: 'CN=localhost',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  mkdirSync(join(dir.path, 'tls'), { mode: 0o700 });
  const file = (name: string, content: string): string => {
    const path = join(dir.path, 'tls', name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const paths = {
    chain: file('chain.pem', leaf.certPem + receiver.intermediate.certPem),
    key: file('key.pem', leaf.keyPem),
    clients: file('clients.pem', caBundlePem(platform)),
    serverCa: file('server-ca.pem', receiver.root.certPem),
    clientCert: file('client.pem', platform.leaf.certPem),
    clientKey: file('client-key.pem', platform.leaf.keyPem),
    clientChain: file('client-chain.pem', chainPem(platform)),
  };
  const nginx = await startNginx(
    dir.path,
    (port) => `listen 127.0.0.1:${port} ssl;
ssl_certificate ${paths.chain}; ssl_certificate_key ${paths.key};
ssl_protocols TLSv1.2 TLSv1.3;
ssl_client_certificate ${paths.clients}; ssl_verify_client on; ssl_verify_depth 2;
location / { return 200 "ok"; }`,
  );
  try {
    const url = `https://127.0.0.1:${nginx.port}/hooks`;
    const identity = { certPem: platform.leaf.certPem, keyPem: platform.leaf.keyPem, chainPem: chainPem(platform) };
    const checks: number[] = [];
    const scans: number[] = [];
    const clis: number[] = [];
    let probes = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const start = performance.now();
      const report = await runCheck({
        url,
        allowPrivateTargets: true,
        serverCaPem: receiver.root.certPem,
        platformCaPem: caBundlePem(platform),
        clientIdentity: identity,
      });
      checks.push(performance.now() - start);
      if (report.verdict !== 'compatible') throw new Error(`unexpected verdict ${report.verdict}`);
      probes = 6 + report.tls.ciphers.reduce((n, c) => n + c.accepted.length + c.rejected.length, 0);
      const scan = await timed('sslscan', ['--no-colour', `127.0.0.1:${nginx.port}`]);
      if (scan.code !== 0) throw new Error('sslscan failed');
      scans.push(scan.ms);
    }
    const bin = fileURLToPath(new URL('../packages/cli/bin/hookwarden.js', import.meta.url));
    for (let i = 0; i < 3; i++) {
      const cli = await timed(process.execPath, [
        bin,
        'check',
        url,
        '--json',
        '--allow-private-targets',
        '--ca',
        paths.serverCa,
        '--client-cert',
        paths.clientCert,
        '--client-key',
        paths.clientKey,
        '--client-chain',
        paths.clientChain,
      ]);
      if (cli.code !== 0) throw new Error(`CLI exited ${cli.code}`);
      clis.push(cli.ms);
    }
    const check = median(checks);
    const scan = median(scans);
    console.log(`check: runCheck ${check.toFixed(0)} ms (${probes} TLS connections, median of ${ROUNDS})`);
    console.log(`check: sslscan whole run ${scan.toFixed(0)} ms (median of ${ROUNDS})`);
    console.log(`check: ratio runCheck / sslscan = ${(check / scan).toFixed(2)}× (goal ≤ 2×)`);
    console.log(`check: CLI wall time ${median(clis).toFixed(0)} ms, start-up included (goal < 5000 ms)`);
  } finally {
    await nginx.stop();
    dir.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
