import { type ChildProcess, spawn } from 'node:child_process';

export interface Serving {
  /** The base URL from the server's "hookwarden listening" log line. */
  url: string;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far (for assertion messages). */
  output(): string;
  /** SIGTERM, then the exit code once the process is gone. */
  stop(): Promise<number | null>;
}

/**
 * Starts `hookwarden serve` as given by `command` and `args` (pass `--port 0`), and resolves once it
 * logs that it listens, with the URL it logged; rejects if the process exits first.
 */
export function startServe(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Serving> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"hookwarden listening"/.exec(out);
      if (m) {
        child.stdout.off('data', collect);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        resolve({
          url: m[1] as string,
          child,
          output: () => out,
          stop: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    exited.then((code) =>
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before listening:\n${out}`)),
    );
  });
}
