import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Daemon, startDaemon } from './net.ts';
import { which } from './tools.ts';

// Caddy opens an admin API on localhost:2019 and keeps state under $HOME by default: parallel test
// runs would collide on both. The test instance gets no admin API and all its state in `dir`.
const ISOLATION = (dir: string) => `    admin off\n    storage file_system ${join(dir, 'data')}\n`;

/**
 * Runs a real Caddy (`caddy run`) with the Caddyfile `config(port)` returns, which must serve on
 * 127.0.0.1:port. A global options block is added (or extended) to isolate the instance.
 */
export async function startCaddy(
  dir: string,
  config: (port: number) => string,
): Promise<Daemon & { confPath: string }> {
  const caddy = which('caddy');
  if (!caddy) throw new Error('caddy is not installed (run .ci/install-tools)');
  mkdirSync(join(dir, 'home'), { recursive: true });
  const confPath = join(dir, 'Caddyfile');
  const home = join(dir, 'home');
  const daemon = await startDaemon('env', (port) => {
    const lines = config(port).split('\n');
    // The global options block, if any, is the first thing after blank lines and comments.
    const first = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    if (first >= 0 && lines[first]?.trim() === '{') lines.splice(first + 1, 0, ISOLATION(dir));
    else lines.unshift(`{\n${ISOLATION(dir)}}`);
    writeFileSync(confPath, lines.join('\n'));
    // `env` execs Caddy in place, so the daemon's pid (and SIGTERM) is Caddy's own.
    return [
      `HOME=${home}`,
      `XDG_DATA_HOME=${home}`,
      `XDG_CONFIG_HOME=${home}`,
      caddy,
      'run',
      '--config',
      confPath,
      '--adapter',
      'caddyfile',
    ];
  });
  return { ...daemon, confPath };
}
