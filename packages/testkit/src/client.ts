import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Reply {
  status?: number;
  body?: string;
  /** Set when the TLS handshake or the connection failed: the request never got an HTTP answer. */
  error?: string;
}

export interface PostOptions {
  /** HTTPS to `localhost` trusting `ca`, presenting `cert` (leaf + intermediates) when given; plain HTTP without. */
  tls?: { ca: string; cert?: string; key?: string };
  headers?: Record<string, string>;
  /** A string or buffer is sent with its length; a list is written part by part (chunked). */
  body?: string | Buffer | Buffer[];
  /** The loopback source address, for peers judged by address (127.0.0.2 as a trusted proxy). */
  localAddress?: string;
  path?: string;
}

/**
 * One POST to 127.0.0.1:port on a fresh connection. A refused handshake or a dropped connection is
 * an outcome, not an exception: tests assert on it.
 */
export function post(port: number, o: PostOptions): Promise<Reply> {
  return new Promise((resolve) => {
    const options = {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: o.path ?? '/hooks',
      headers: o.headers,
      localAddress: o.localAddress,
      agent: false as const,
    };
    const onResponse = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (e) => resolve({ error: e.message }));
    };
    const req = o.tls
      ? httpsRequest({ ...options, servername: 'localhost', ...o.tls }, onResponse)
      : httpRequest(options, onResponse);
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    if (Array.isArray(o.body)) {
      for (const part of o.body) req.write(part);
      req.end();
    } else req.end(o.body ?? '');
  });
}
