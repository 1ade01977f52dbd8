import { request as httpRequest } from 'node:http';
import { request } from 'node:https';

export interface Reply {
  status?: number;
  body?: string;
  /** Set when the TLS handshake or the connection failed: the request never got an HTTP answer. */
  error?: string;
}

/**
 * One HTTPS request to 127.0.0.1:port, presenting `cert` (leaf + intermediates) when given. A refused
 * handshake is an outcome, not an exception: tests assert on it.
 */
export function send(
  port: number,
  opts: { ca: string; cert?: string; key?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        method: 'POST',
        path: '/hooks',
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        agent: false,
        // The Host the platform sends matches the SNI; Caddy enforces that under client auth (421).
        headers: { host: `localhost:${port}`, 'content-type': 'application/json', ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(opts.body ?? '{"type":"ping"}');
  });
}

/** A plain-HTTP request straight to the app, from a chosen loopback source address. */
export function sendPlain(
  port: number,
  opts: { headers: Record<string, string>; localAddress?: string },
): Promise<Reply> {
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/hooks',
        localAddress: opts.localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end('{"type":"ping"}');
  });
}
