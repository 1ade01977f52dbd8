import {
  Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { CLEARED_HEADERS } from '@hookwarden/verify/proxy-config';
import { DEFAULT_UPSTREAM_CONNECTIONS } from './config.ts';
import { GateError } from './errors.ts';
import { VERIFIED_HEADER } from './verified-header.ts';

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded. So is
// Expect: the gate answers a 100-continue itself, once its own checks passed.
const HOP_BY_HOP = new Set([
  'expect',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

// What a Connection token may never remove: without content-length a streamed body would lose its
// framing and its bytes would be read upstream as a further, unverified request on the same
// kept-alive connection; host is set by the gate anyway.
const FRAMING = new Set(['content-length', 'host']);

// Headers through which a proxy states certificate facts, the client's address or a verdict. A client
// could write any of them itself; the upstream learns what the gate verified from Hookwarden-Verified
// alone. Underscore spellings go too: some servers (WSGI/CGI-style ones) read `X_SSL_Client_Verify`
// exactly like `X-SSL-Client-Verify`.
const CLEARED = new Set(CLEARED_HEADERS.map((name) => name.toLowerCase()));

function cleared(name: string): boolean {
  return CLEARED.has(name.includes('_') ? name.replaceAll('_', '-') : name);
}

/**
 * The headers to pass on: without hop-by-hop ones, and for a request (`clear`) without any header a
 * client could use to pose as a proxy's statement.
 */
function endToEnd(headers: IncomingHttpHeaders, clear: boolean): Record<string, string | string[]> {
  // Names listed in Connection are hop-by-hop too. Most requests carry none (HTTP/1.1 keeps alive
  // by default), so the set is built only when there is one.
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : new Set(
          String(connection)
            .split(',')
            .map((s) => s.trim().toLowerCase())
            .filter((s) => !FRAMING.has(s)),
        );
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name) || (clear && cleared(name))) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Sets how the body is delimited upstream. Node's client sends a GET, DELETE or OPTIONS body without
 * any framing unless told, so a streamed body that came chunked goes on chunked whatever the method;
 * a Content-Length that came stays. A request with neither has no body.
 */
function frame(headers: Record<string, string | string[]>, req: IncomingMessage, body: Buffer | undefined): void {
  if (body !== undefined) {
    headers['content-length'] = String(body.length);
  } else if (req.headers['transfer-encoding'] !== undefined) {
    // Chunked wins over a Content-Length (RFC 9112 §6.3); Node refuses such a request anyway.
    delete headers['content-length'];
    headers['transfer-encoding'] = 'chunked';
  }
}

interface Forwarding {
  upstreamReq: ClientRequest;
  res: ServerResponse;
  /** Whether the upstream's status line was passed on. */
  answered: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Before the upstream answers, a failure is HW_UPSTREAM_UNAVAILABLE; once the status is sent it can
 * only cut the response short.
 */
function fail(f: Forwarding, err: Error): void {
  f.upstreamReq.destroy();
  if (f.answered) {
    f.res.destroy();
    f.resolve();
  } else {
    // The detail (addresses, ports) is for the gate's log: the server answers the client with the
    // code's fixed message.
    f.reject(new GateError('HW_UPSTREAM_UNAVAILABLE', `the upstream did not answer: ${err.message}`, { cause: err }));
  }
}

export interface Upstream {
  url: URL;
  forward(req: IncomingMessage, res: ServerResponse, verified: string, body: Buffer | undefined): Promise<void>;
  close(): void;
}

/** The upstream behind the gate, reached over kept-alive connections. */
export function createUpstream(target: string, opts: { maxSockets?: number } = {}): Upstream {
  const url = new URL(target);
  const tls = url.protocol === 'https:';
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? DEFAULT_UPSTREAM_CONNECTIONS };
  const agent = tls ? new HttpsAgent(agentOptions) : new Agent(agentOptions);
  const send = tls ? httpsRequest : request;
  const base = url.pathname.replace(/\/$/, '');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (tls ? 443 : 80);

  return {
    url,
    forward(req, res, verified, body) {
      // The inbound Hookwarden-Verified (any spelling) is among the cleared headers.
      const headers = endToEnd(req.headers, true);
      headers[VERIFIED_HEADER] = verified;
      headers.host = url.host;
      frame(headers, req, body);
      const upstreamReq = send({
        agent,
        protocol: url.protocol,
        hostname,
        port,
        method: req.method,
        path: base + (req.url ?? '/'),
        headers,
      });
      // One promise and plain events per request rather than stream/promises pipeline, which
      // allocates abort signals per call and measured ~10% of the gate's CPU in bench/gate.ts.
      return new Promise<void>((resolve, reject) => {
        // Anonymous listeners around one module-level function: under tsx every named closure is
        // renamed on creation, a cost paid per request.
        const state: Forwarding = { upstreamReq, res, answered: false, resolve, reject };
        upstreamReq.once('error', (err: Error) => fail(state, err));
        upstreamReq.once('response', (upstreamRes: IncomingMessage) => {
          state.answered = true;
          res.writeHead(upstreamRes.statusCode ?? 502, endToEnd(upstreamRes.headers, false));
          upstreamRes.once('error', (err: Error) => fail(state, err));
          res.once('finish', resolve);
          upstreamRes.pipe(res);
        });
        // A client that goes away takes its upstream request with it (which, unanswered yet, fails
        // with its 'error' and is logged as such).
        res.once('close', () => {
          if (!res.writableFinished) upstreamReq.destroy();
          if (state.answered) resolve();
        });
        if (body !== undefined) upstreamReq.end(body);
        else {
          req.once('error', (err: Error) => fail(state, err));
          req.pipe(upstreamReq);
        }
      });
    },
    close() {
      agent.destroy();
    },
  };
}
