import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/hookwarden.js', import.meta.url));

export interface RunningGate {
  port: number;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  /** Resolves once a log line satisfying `pred` has been written. */
  logged(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/** Spawns the real `hookwarden gate` on port 0 and reads the port from its 'listening' log line. */
export async function startGate(args: string[]): Promise<RunningGate> {
  const child = spawn(process.execPath, [BIN, 'gate', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] =
    [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    logs.push(entry);
    for (const w of waiters.splice(0)) {
      if (w.pred(entry)) w.resolve(entry);
      else waiters.push(w);
    }
  });
  const logged = (pred: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const found = logs.find(pred);
      if (found) resolve(found);
      else waiters.push({ pred, resolve });
    });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`gate exited with ${code}: ${stderr}`);
  });
  const listening = await Promise.race([logged((e) => e.msg === 'listening'), exited]);
  exited.catch(() => {});
  return {
    port: listening.port as number,
    child,
    logs,
    logged,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const done = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await done;
      return code as number | null;
    },
  };
}
