import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { Server, Socket } from 'node:net';
import { listen } from '@hookwarden/testkit';
import type { Fixtures } from './fixtures.ts';

/** Listens on a loopback port; `closers` gets a function that drops every connection and closes. */
export async function serveOn(server: Server, closers: (() => Promise<void>)[]): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  server.on('secureConnection', (s: Socket) => s.on('error', () => {}));
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  closers.push(
    () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return port;
}

/** An HTTPS server answering 'ok' with `options`. */
export function serveWith(closers: (() => Promise<void>)[], options: ServerOptions): Promise<number> {
  return serveOn(
    createHttpsServer(options, (_req, res) => res.end('ok')),
    closers,
  );
}

/** An HTTPS server answering 'ok' with the EC server certificate and its intermediate, plus `extra`. */
export function serveHttps(fx: Fixtures, closers: (() => Promise<void>)[], extra: ServerOptions = {}): Promise<number> {
  return serveWith(closers, {
    cert: fx.ecServer.certPem + fx.serverIntermediate.certPem,
    key: fx.ecServer.keyPem,
    ...extra,
  });
}
