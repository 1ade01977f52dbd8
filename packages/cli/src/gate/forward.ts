import {
  Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DEFAULT_UPSTREAM_CONNECTIONS } from './config.ts';
import { GateError } from './errors.ts';
import { VERIFIED_HEADER } from './verified-header.ts';

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
const HOP_BY_HOP = new Set([
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

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  // Names listed in Connection are hop-by-hop too. Most requests carry none (HTTP/1.1 keeps alive
  // by default), so the set is built only when there is one.
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : new Set(
          String(connection)
            .split(',')
            .map((s) => s.trim().toLowerCase()),
        );
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
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
      const headers = endToEnd(req.headers);
      delete headers[VERIFIED_HEADER];
      headers[VERIFIED_HEADER] = verified;
      headers.host = url.host;
      if (body !== undefined) {
        headers['content-length'] = String(body.length);
      }
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
          res.writeHead(upstreamRes.statusCode ?? 502, endToEnd(upstreamRes.headers));
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
