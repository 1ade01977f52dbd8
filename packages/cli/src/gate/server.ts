import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  httpsServerOptions,
  type IpSet,
  parseIp,
  tlsFactsFromSocket,
  type Verifier,
  type VerifyRequest,
} from '@hookwarden/verify';
import { HookwardenError } from '@hookwarden/verify/errors';
import { BodyBudget, type BodyRead, readBody } from './body.ts';
import { DEFAULT_BODY_TIMEOUT_SECONDS, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_CLIENT_CONNECTIONS } from './config.ts';
import { GATE_CODES, GateError } from './errors.ts';
import { createUpstream } from './forward.ts';
import type { GateLog } from './log.ts';
import { verifiedHeaderValue } from './verified-header.ts';

export interface GateOptions {
  verifier: Pick<Verifier, 'verify'>;
  upstream: string;
  /** Terminate TLS here, requesting a client certificate; without it the gate serves plain HTTP behind a proxy. */
  tls?: { certPem: string; keyPem: string; clientCaPem: string };
  /** The most one body may hold when the verifier reads it (signatures need it); otherwise it streams. */
  maxBodyBytes: number;
  /** The most all bodies being read or held may hold together (default 64 MiB); more is 503. */
  maxBufferedBytes?: number;
  /** The most connections one client address (an IPv6 /64) may have open (default 32). */
  maxClientConnections?: number;
  /** Peers exempt from that cap: the trusted proxies, whose connections carry many clients. */
  proxies?: IpSet;
  /** How long a body the verifier reads may take to arrive (default 30 s); longer is 408. */
  bodyTimeoutMs?: number;
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

/** Whose connections count together: an IPv4 address, or an IPv6 /64 (one host's usual allocation). */
function clientKey(address: string | undefined): string {
  const ip = parseIp(address ?? '');
  if (!ip) return address ?? '';
  return ip.bytes.length === 4 ? ip.text : Buffer.from(ip.bytes.subarray(0, 8)).toString('hex');
}

/** The verifying reverse proxy: only verified requests reach the upstream, each carrying its facts. */
export function createGate(opts: GateOptions): Gate {
  const upstream = createUpstream(opts.upstream, { maxSockets: opts.upstreamConnections });
  const now = opts.now ?? Date.now;
  const budget = new BodyBudget(opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const bodyLimits = {
    maxBytes: opts.maxBodyBytes,
    budget,
    timeoutMs: opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_SECONDS * 1000,
  };
  const maxClientConnections = opts.maxClientConnections ?? DEFAULT_MAX_CLIENT_CONNECTIONS;
  const connections = new Map<string, number>();

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

  async function handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    const started = now();
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const socket = req.socket as TLSSocket;
    const entry: Record<string, unknown> = { method: req.method, path, remoteAddress: socket.remoteAddress };
    let reading: BodyRead | undefined;
    try {
      // Only origin-form targets ("/path?query"): an absolute-form or "*" target would be forwarded
      // to a path the upstream never expected.
      if (!req.url?.startsWith('/')) {
        throw new GateError('HW_GATE_BAD_TARGET');
      }
      const facts = await opts.verifier.verify({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        // Repeated lines kept apart (req.headers joins them with ", "): the parsers refuse a
        // repeated proxy header instead of reading a client's copy joined ahead of the proxy's.
        headers: req.headersDistinct,
        // Read only when a check needs it, after every check that does not (address, proxy, TLS
        // certificate): a refused sender never gets to make the gate buffer its body.
        body: () => {
          reading = readBody(req, bodyLimits);
          // The client waited for our go-ahead before sending the body: it is now.
          if (expectsContinue) res.writeContinue();
          return reading.body;
        },
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
      const body = reading ? await reading.body : undefined;
      if (body === undefined && expectsContinue) res.writeContinue();
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
      reading?.release();
      entry.durationMs = now() - started;
      opts.log(entry);
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res, false);
  };
  // A client sending `Expect: 100-continue` is answered only once the checks that need no body have
  // passed: a refused one is told so before it sends any of it.
  const expecting = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res, true);
  };
  // Connections per client, counted when accepted, before a TLS handshake or a request line: a
  // client holding many slow connections ties up only its own share.
  const onConnection = (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (opts.proxies?.has(address)) return;
    const key = clientKey(address);
    const open = (connections.get(key) ?? 0) + 1;
    if (open > maxClientConnections) {
      socket.destroy();
      opts.log({
        decision: 'refused',
        code: 'HW_GATE_CLIENT_LIMIT',
        remoteAddress: address,
        detail: `${address} has ${maxClientConnections} connections open, the most one client may`,
      });
      return;
    }
    connections.set(key, open);
    socket.once('close', () => {
      const left = (connections.get(key) ?? 1) - 1;
      if (left === 0) connections.delete(key);
      else connections.set(key, left);
    });
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
  server.on('connection', onConnection);
  server.on('checkContinue', expecting);
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
