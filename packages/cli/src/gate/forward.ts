import { Agent, type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { HookwardenError } from '@hookwarden/verify/errors';
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
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase()),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
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
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 64 };
  const agent = tls ? new HttpsAgent(agentOptions) : new Agent(agentOptions);
  const send = tls ? httpsRequest : request;
  const base = url.pathname.replace(/\/$/, '');

  return {
    url,
    async forward(req, res, verified, body) {
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
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (tls ? 443 : 80),
        method: req.method,
        path: base + (req.url ?? '/'),
        headers,
      });
      const response = new Promise<IncomingMessage>((resolve, reject) => {
        upstreamReq.once('response', resolve);
        upstreamReq.once('error', reject);
      });
      try {
        if (body !== undefined) upstreamReq.end(body);
        else await pipeline(req, upstreamReq);
        const upstreamRes = await response;
        res.writeHead(upstreamRes.statusCode ?? 502, endToEnd(upstreamRes.headers));
        await pipeline(upstreamRes, res);
      } catch (err) {
        upstreamReq.destroy();
        if (res.headersSent) {
          res.destroy();
          return;
        }
        throw new HookwardenError('HW_UPSTREAM_UNAVAILABLE', `the upstream did not answer: ${(err as Error).message}`, {
          status: 502,
          cause: err,
        });
      }
    },
    close() {
      agent.destroy();
    },
  };
}
