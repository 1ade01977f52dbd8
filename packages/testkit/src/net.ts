import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server } from 'node:net';

/** Listens on 127.0.0.1 port 0 and returns the port the kernel chose. */
export async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  return address.port;
}

/**
 * A loopback port for an external server (nginx, HAProxy, Caddy) that cannot be told to bind port 0
 * and report back: the kernel picks it, we release it and hand it over. `startDaemon` retries when
 * another process took it in between.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects if `child` exits first. */
export async function waitForPort(port: number, child?: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child?.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  for (;;) {
    if (exited) throw new Error(`process ${exited} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
    // Polling a port that a child process is opening: there is no event to wait on.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Daemon {
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (for assertion messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts an external server that listens on a port we choose. `args(port)` builds its command line
 * (writing its config first if needed); a start that loses the port race is retried with another.
 */
export async function startDaemon(command: string, args: (port: number) => string[], attempts = 3): Promise<Daemon> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = await freePort();
    const child = spawn(command, args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    try {
      await waitForPort(port, child);
      return {
        port,
        child,
        stderr: () => err,
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    } catch (e) {
      child.kill('SIGKILL');
      lastError = new Error(`${command} failed to start: ${(e as Error).message}\n${err}`);
    }
  }
  throw lastError;
}
