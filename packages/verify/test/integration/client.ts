import { post, type Reply } from '@hookwarden/testkit';

export type { Reply };

/** One HTTPS request to 127.0.0.1:port as the platform sends it, presenting `cert` when given. */
export function send(
  port: number,
  opts: { ca: string; cert?: string; key?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return post(port, {
    tls: { ca: opts.ca, cert: opts.cert, key: opts.key },
    // The Host the platform sends matches the SNI; Caddy enforces that under client auth (421).
    headers: { host: `localhost:${port}`, 'content-type': 'application/json', ...opts.headers },
    body: opts.body ?? '{"type":"ping"}',
  });
}

/** A plain-HTTP request straight to the app, from a chosen loopback source address. */
export function sendPlain(
  port: number,
  opts: { headers: Record<string, string>; localAddress?: string },
): Promise<Reply> {
  return post(port, {
    headers: { 'content-type': 'application/json', ...opts.headers },
    localAddress: opts.localAddress,
    body: '{"type":"ping"}',
  });
}
