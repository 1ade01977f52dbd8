import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './net.ts';
import { tempDir } from './temp.ts';

/** A throwaway PostgreSQL cluster of a test's own: loopback only, trust authentication, superuser `postgres`. */
export interface Postgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (default: the `postgres` database). */
  url(database?: string): string;
  /** Whether the server is running now. */
  readonly running: boolean;
  /** Everything the server wrote to stderr so far (for assertion messages). */
  log(): string;
  /** Stops the server: 'fast' disconnects clients and checkpoints, 'immediate' is a crash (recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

/** The folder of PostgreSQL's server programs: Debian keeps them out of PATH, one folder per major version. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const r = spawnSync('sh', ['-c', 'command -v postgres'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? join(path, '..') : undefined;
}

/** As `needTools` for PostgreSQL's server programs: false when installed, else the reason to skip (a failure under CI=true). */
export function needPostgres(): false | string {
  if (postgresBinDir() !== undefined) return false;
  const reason = 'PostgreSQL is not installed (run .ci/install-tools)';
  if (process.env.CI === 'true') throw new Error(`${reason}; CI must not skip`);
  return reason;
}

/**
 * PostgreSQL refuses to run as root: when the tests do (CI, containers), the cluster belongs to the
 * `postgres` user that Debian's package creates.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0 || !Number.isInteger(gid)) {
    throw new Error('running as root and there is no postgres user to run PostgreSQL as (run .ci/install-tools)');
  }
  return { uid, gid };
}

/**
 * Creates a cluster with initdb in a temporary folder and starts it on a free loopback port, with
 * durability traded for speed where only an OS crash could tell (fsync off). Commits stay
 * synchronous: with synchronous_commit off, an immediate stop lost transactions already committed.
 * `destroy()` in `after` removes everything.
 */
export async function startPostgres(opts: { settings?: Record<string, string> } = {}): Promise<Postgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (run .ci/install-tools)');
  const user = serverUser();
  const dir = tempDir('hw-pg-');
  const data = join(dir.path, 'data');
  if (user) chownSync(dir.path, user.uid, user.gid);
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    { encoding: 'utf8', ...(user ?? {}) },
  );
  if (init.status !== 0) {
    dir.cleanup();
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir.path,
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    ...opts.settings,
  };
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  async function start(): Promise<void> {
    if (child) return;
    const args = ['-D', data, '-p', String(port)];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const c = spawn(join(bin as string, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) });
    c.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    c.once('exit', () => {
      if (child === c) child = undefined;
    });
    child = c;
    const from = stderr.length;
    // The port opens before recovery ends; this line is the server's own word that it is ready.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('not ready after 30 s')), 30_000);
      const onData = () => {
        if (stderr.indexOf('ready to accept connections', from) !== -1) done();
      };
      const onExit = (code: number | null, signal: string | null) => fail(new Error(`exited with ${code ?? signal}`));
      function done() {
        clearTimeout(timer);
        c.stderr?.off('data', onData);
        c.off('exit', onExit);
        resolve();
      }
      function fail(err: Error) {
        done();
        c.kill('SIGKILL');
        reject(new Error(`PostgreSQL did not start: ${err.message}\n${stderr}`));
      }
      c.stderr?.on('data', onData);
      c.once('exit', onExit);
    });
  }

  function stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const c = child;
    if (!c) return Promise.resolve();
    return new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      // SIGINT: fast shutdown; SIGQUIT: immediate shutdown (PostgreSQL's signal protocol).
      c.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    });
  }

  try {
    await start();
  } catch (err) {
    dir.cleanup();
    throw err;
  }
  return {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    get running() {
      return child !== undefined;
    },
    log: () => stderr,
    stop,
    start,
    async destroy() {
      await stop('immediate');
      dir.cleanup();
    },
  };
}
