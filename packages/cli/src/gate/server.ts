import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { httpsServerOptions, tlsFactsFromSocket, type Verifier, type VerifyRequest } from '@hookwarden/verify';
import { HookwardenError } from '@hookwarden/verify/errors';
import { readCapped } from './body.ts';
import { GATE_CODES, GateError } from './errors.ts';
import { createUpstream } from './forward.ts';
import type { GateLog } from './log.ts';
import { verifiedHeaderValue } from './verified-header.ts';

export interface GateOptions {
  verifier: Pick<Verifier, 'verify'>;
  upstream: string;
  /** Terminate TLS here, requesting a client certificate; without it the gate serves plain HTTP behind a proxy. */
  tls?: { certPem: string; keyPem: string; clientCaPem: string };
  /** Buffer the body for the verifier (signatures need it); otherwise it streams to the upstream. */
  needsBody: boolean;
  maxBodyBytes: number;
  /** Most connections open to the upstream at once (default 64); more requests wait for one. */
  upstreamConnections?: number;
  log: GateLog;
  now?: () => number;
}

export interface Gate {
  server: Server;
  /** Stops accepting, lets requests in flight finish, then drops idle upstream connections. */
  close(): Promise<void>;
}

// The gate's own failures whose detail describes its insides (the upstream's address, an exception's
// message): the client, not authenticated, gets the code's fixed message, the log the detail.
// Verifier refusals keep theirs: they tell a sender what to fix.
const PRIVATE_DETAIL = new Set<string>(['HW_UPSTREAM_UNAVAILABLE', 'HW_GATE_INTERNAL']);

function publicView(err: HookwardenError): { code: string; detail: string } {
  if (err instanceof GateError && PRIVATE_DETAIL.has(err.code)) {
    return { code: err.code, detail: GATE_CODES[err.code].message };
  }
  return err.toJSON();
}

function answer(res: ServerResponse, err: HookwardenError, close: boolean): void {
  const body = JSON.stringify(publicView(err));
  res.writeHead(err.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** The verifying reverse proxy: only verified requests reach the upstream, each carrying its facts. */
export function createGate(opts: GateOptions): Gate {
  const upstream = createUpstream(opts.upstream, { maxSockets: opts.upstreamConnections });
  const now = opts.now ?? Date.now;

  // The TLS facts of a connection, read once: the peer certificate cannot change on a connection
  // whose renegotiation is disabled (below), and reading it rebuilds the whole chain as PEM.
  const connectionTls = new WeakMap<TLSSocket, VerifyRequest['tls']>();
  const tlsFactsOf = (socket: TLSSocket) => {
    let facts = connectionTls.get(socket);
    if (!facts) {
      facts = tlsFactsFromSocket(socket);
      connectionTls.set(socket, facts);
    }
    return facts;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const socket = req.socket as TLSSocket;
    const entry: Record<string, unknown> = { method: req.method, path, remoteAddress: socket.remoteAddress };
    let body: Buffer | undefined;
    try {
      // Only origin-form targets ("/path?query"): an absolute-form or "*" target would be forwarded
      // to a path the upstream never expected.
      if (!req.url?.startsWith('/')) {
        throw new GateError('HW_GATE_BAD_TARGET');
      }
      if (opts.needsBody) body = await readCapped(req, opts.maxBodyBytes);
      const facts = await opts.verifier.verify({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        // Repeated lines kept apart (req.headers joins them with ", "): the parsers refuse a
        // repeated proxy header instead of reading a client's copy joined ahead of the proxy's.
        headers: req.headersDistinct,
        body: body ?? new Uint8Array(0),
        remoteAddress: socket.remoteAddress ?? '',
        ...(opts.tls ? { tls: tlsFactsOf(socket) } : {}),
      });
      // The handshake accepts any certificate or none (below): with TLS ending here, only the
      // verifier's certificate check keeps an unauthenticated client out. A policy without one is a
      // misconfiguration that must fail closed, whoever built the gate.
      if (opts.tls && !facts.checks.includes('client-certificate')) {
        throw new GateError(
          'HW_GATE_INTERNAL',
          'TLS ends at the gate but the policy checks no client certificate: refusing every request',
        );
      }
      Object.assign(entry, {
        decision: 'accepted',
        checks: facts.checks,
        clientIp: facts.clientIp,
        subject: facts.identity?.subject,
        fingerprintSha256: facts.identity?.fingerprintSha256,
        webhookId: facts.webhookId,
      });
      await upstream.forward(req, res, verifiedHeaderValue(facts), body);
      entry.status = res.statusCode;
    } catch (err) {
      const known =
        err instanceof HookwardenError
          ? err
          : new GateError('HW_GATE_INTERNAL', `unexpected: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      const refused = entry.decision === undefined;
      Object.assign(entry, {
        decision: refused ? 'refused' : 'upstream_failed',
        code: known.code,
        status: known.status,
      });
      // The detail says what to fix (which subject came, which pin was expected): never a secret.
      entry.detail = known.message;
      // A body that was not read is not worth reading: close rather than drain it.
      if (!res.headersSent) answer(res, known, !req.readableEnded);
      else res.destroy();
    } finally {
      entry.durationMs = now() - started;
      opts.log(entry);
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  };
  const server = opts.tls
    ? createHttpsServer(
        // The handshake always completes so that a refusal is a logged decision with a code and a
        // {code, detail} answer; the verifier fails closed on anything but an authorized chain.
        httpsServerOptions({ ...opts.tls, rejectUnauthorized: false }),
        listener,
      )
    : createHttpServer(listener);
  // A TLS 1.2 renegotiation could present another client certificate mid-connection: refused, so
  // the certificate read for a connection's first request is the one of all its requests.
  if (opts.tls) server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  server.keepAliveTimeout = 65_000;

  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          upstream.close();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
