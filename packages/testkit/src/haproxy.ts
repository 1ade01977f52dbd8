import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Daemon, startDaemon } from './net.ts';
import { which } from './tools.ts';

/**
 * Runs a real HAProxy in the foreground (`-db`) with a configuration written to `dir`. `config(port)`
 * returns the whole configuration, which must bind 127.0.0.1:port.
 */
export async function startHaproxy(
  dir: string,
  config: (port: number) => string,
): Promise<Daemon & { confPath: string }> {
  const haproxy = which('haproxy');
  if (!haproxy) throw new Error('haproxy is not installed (run .ci/install-tools)');
  const confPath = join(dir, 'haproxy.cfg');
  const daemon = await startDaemon(haproxy, (port) => {
    writeFileSync(confPath, config(port));
    return ['-db', '-f', confPath];
  });
  return { ...daemon, confPath };
}
