import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { listen } from '@hookwarden/testkit';
import { HookwardenError } from '../../src/errors.ts';

export interface AppRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  remoteAddress: string;
}

export interface App {
  port: number;
  /** Requests that reached the app at all, whatever it answered: proves a refusal happened earlier. */
  hits(): number;
  close(): Promise<void>;
}

/**
 * The receiver's app on 127.0.0.1: it hands each request to `verify` (the toolkit, in proxy-header
 * mode) and answers 200 with the verified facts, or the error's status and {code, detail}. With
 * `tls` it serves HTTPS with that certificate, for the proxy's checks of an https upstream.
 */
export async function startApp(
  verify: (req: AppRequest) => Promise<unknown>,
  tls?: { cert: string; key: string },
): Promise<App> {
  let hits = 0;
  const handler: RequestListener = async (req, res) => {
    hits++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const facts = await verify({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
        remoteAddress: req.socket.remoteAddress ?? '',
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(facts));
    } catch (err) {
      const e = err instanceof HookwardenError ? err : new HookwardenError('HW_TEST_APP', String(err), { status: 500 });
      res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify(e.toJSON()));
    }
  };
  const server = tls ? createTlsServer(tls, handler) : createServer(handler);
  const port = await listen(server);
  return {
    port,
    hits: () => hits,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
