import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Daemon, startDaemon } from './net.ts';
import { which } from './tools.ts';

/**
 * Runs a real nginx in the foreground with its own prefix directory, so nothing touches the
 * system's nginx. `server(port)` returns the body of one `server { ... }` block (without the
 * braces) that must `listen 127.0.0.1:${port} ...`; `http` adds directives at http level (maps).
 */
export function startNginx(
  dir: string,
  server: (port: number) => string,
  http = '',
): Promise<Daemon & { confPath: string }> {
  return startNginxHttp(dir, (port) => `${http}\nserver {\n${server(port)}\n}\n`);
}

/**
 * Like `startNginx`, for a configuration written for the http context (what goes in conf.d, maps and
 * upstreams included): `http(port)` returns it whole, with its own `server` blocks.
 */
export async function startNginxHttp(
  dir: string,
  http: (port: number) => string,
): Promise<Daemon & { confPath: string }> {
  const nginx = which('nginx');
  if (!nginx) throw new Error('nginx is not installed (run .ci/install-tools)');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const confPath = join(dir, 'nginx.conf');
  const daemon = await startDaemon(nginx, (port) => {
    writeFileSync(join(dir, 'site.conf'), http(port));
    writeFileSync(
      confPath,
      `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} info;
daemon off;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${join(dir, 'site.conf')};
}
`,
    );
    return ['-p', dir, '-c', confPath, '-e', join(dir, 'logs', 'error.log')];
  });
  return { ...daemon, confPath };
}
