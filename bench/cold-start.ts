/**
 * Cold start of the `hookwarden` command, compiled (packages/cli/bin, dist/) against the same
 * command run from its TypeScript sources through tsx (what the bin did before the build), in the
 * same run; bare `node -e 0` is the floor of any Node command.
 * - `--help`: spawn to exit;
 * - `serve`: spawn until GET /api/v1/health answers, on a data directory made by a first start (the
 *   CA, keys and database exist, as on every start but the first); also the CPU the process used
 *   until then (/proc), steadier than wall time on a shared machine.
 * Rounds alternate between the contenders; the median of each counts.
 *
 * Measured on the 2-core development box under a load average of 7-9 (other work), node 20.20:
 *   --help  compiled 269 ms, tsx 864 ms (0.31), bare node 198 ms
 *   serve   compiled 2.5 s, tsx 4.7 s until healthy (0.54; CPU 1.8 s / 3.5 s, 0.51). What is left
 *           is mostly loading the server's third-party modules (importing @hookwarden/server:
 *           ~0.8 s of CPU, most of it in Node's CommonJS loader), not Hookwarden's own start.
 *
 * Run alone: `npm run build && node --conditions=@hookwarden/source --import tsx bench/cold-start.ts`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServe, tempDir } from '@hookwarden/testkit';

const ROUNDS = 7;
const COMPILED = [fileURLToPath(new URL('../packages/cli/bin/hookwarden.js', import.meta.url))];
const FROM_SOURCE = [
  '--conditions=@hookwarden/source',
  fileURLToPath(new URL('./lib/cli-from-source.mjs', import.meta.url)),
];
// The children load nothing of this process's loader.
const { NODE_OPTIONS: _, ...env } = process.env;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function exitMs(args: string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`exit ${code}`))));
  });
}

/** CPU seconds (user + system) a running process has used, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
}

async function serveMs(cli: string[], data: string): Promise<{ wall: number; cpu: number }> {
  const start = performance.now();
  const serving = await startServe(process.execPath, [...cli, 'serve', '--port', '0', '--data', data], env);
  try {
    const res = await fetch(`${serving.url}/api/v1/health`);
    if (res.status !== 204) throw new Error(`health answered ${res.status}`);
    return { wall: performance.now() - start, cpu: cpuMs(serving.child.pid!) };
  } finally {
    await serving.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const dir = tempDir('hw-cold-start-');
  try {
    const data = `${dir.path}/data`;
    await serveMs(COMPILED, data); // first start: creates the CA, keys and database
    const help = { compiled: [] as number[], source: [] as number[], node: [] as number[] };
    const serve = { compiled: [] as { wall: number; cpu: number }[], source: [] as { wall: number; cpu: number }[] };
    await exitMs([...FROM_SOURCE, '--help']); // warm the file cache and tsx's transform cache alike
    await exitMs([...COMPILED, '--help']);
    for (let r = 0; r < ROUNDS; r++) {
      help.node.push(await exitMs(['-e', '0']));
      help.compiled.push(await exitMs([...COMPILED, '--help']));
      help.source.push(await exitMs([...FROM_SOURCE, '--help']));
      serve.compiled.push(await serveMs(COMPILED, data));
      serve.source.push(await serveMs(FROM_SOURCE, data));
    }
    const [hc, hs, hn] = [median(help.compiled), median(help.source), median(help.node)];
    const wall = (xs: { wall: number }[]) => median(xs.map((x) => x.wall));
    const cpu = (xs: { cpu: number }[]) => median(xs.map((x) => x.cpu));
    const [sc, ss, cc, cs] = [wall(serve.compiled), wall(serve.source), cpu(serve.compiled), cpu(serve.source)];
    console.log(`hookwarden cold start, median of ${ROUNDS} alternating rounds (node ${process.version})`);
    console.log(`  node -e 0 (floor)                  ${hn.toFixed(0).padStart(6)} ms`);
    console.log(`  --help   compiled / tsx sources    ${hc.toFixed(0).padStart(6)} / ${hs.toFixed(0)} ms`);
    console.log(
      `  serve    compiled / tsx sources    ${sc.toFixed(0).padStart(6)} / ${ss.toFixed(0)} ms until healthy`,
    );
    console.log(`           CPU until healthy         ${cc.toFixed(0).padStart(6)} / ${cs.toFixed(0)} ms`);
    console.log('');
    console.log(`--help: compiled takes ${(hc / hs).toFixed(2)} of the tsx time, ${(hc / hn).toFixed(1)}x bare node`);
    console.log(`serve:  compiled takes ${(sc / ss).toFixed(2)} of the tsx time (CPU ${(cc / cs).toFixed(2)})`);
  } finally {
    dir.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
