import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { listen } from './net.ts';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  peerSubject: string;
}

/**
 * A real HTTPS receiver on loopback that refuses any connection without a client certificate from
 * `clientCaPem` (the TLS handshake itself fails otherwise). `respond` decides each answer.
 */
export async function startReceiver(opts: {
  server: { certPem: string; keyPem: string };
  clientCaPem: string;
  respond?: (r: Received) => number | Promise<number>;
}): Promise<{
  url: string;
  port: number;
  received: Received[];
  server: Server;
  close(): Promise<void>;
  onRequest(fn: () => void): void;
}> {
  const received: Received[] = [];
  const listeners = new Set<() => void>();
  const server = createServer(
    {
      cert: opts.server.certPem,
      key: opts.server.keyPem,
      ca: opts.clientCaPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const socket = req.socket as TLSSocket;
        const r: Received = {
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          peerSubject: String(socket.getPeerCertificate().subject?.CN ?? ''),
        };
        const status = opts.respond ? await opts.respond(r) : 200;
        if (status >= 200 && status < 300) received.push(r);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
        for (const l of listeners) l();
      });
    },
  );
  const port = await listen(server);
  return {
    url: `https://localhost:${port}/hook`,
    port,
    received,
    server,
    onRequest: (fn) => listeners.add(fn),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves when `cond()` holds, re-checked on each event of `subscribe`; rejects after `ms`. */
export function waitFor(
  cond: () => boolean,
  subscribe: (fn: () => void) => void,
  ms = 20_000,
  label = 'condition',
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (cond()) return resolve();
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), ms);
    subscribe(() => {
      if (cond()) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
