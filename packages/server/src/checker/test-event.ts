import { randomBytes } from 'node:crypto';
import { generateSecret } from '@hookwarden/verify/signature';
import type { CipherPolicy } from '../delivery/ciphers.ts';
import { createDeliveryClient } from '../delivery/client.ts';
import { signedHeaders } from '../delivery/signing.ts';
import type { LookupFn } from '../delivery/ssrf.ts';
import type { ClientIdentity, TestEventResult } from './types.ts';

/** Marks the checker's test event (`hookwarden.check`), which receivers should answer 2xx and not act on. */
export const CHECK_HEADER = 'hookwarden-check';

/**
 * The default test event: a `hookwarden.check` event signed the Standard Webhooks way and sent by
 * the delivery client itself, so it meets every rule a real delivery meets (SSRF guard, server
 * certificate verification, the platform's client certificate, cipher policy, timeouts). Without
 * the endpoint's secret it is signed with a throwaway one; the API passes the real one.
 */
export async function deliverTestEvent(opts: {
  url: string;
  identity?: ClientIdentity | undefined;
  serverCaPem?: string | undefined;
  cipherPolicy: CipherPolicy;
  allowPrivateTargets: boolean;
  lookup?: LookupFn | undefined;
  now: () => number;
  timeoutMs: number;
  secret?: string | undefined;
}): Promise<TestEventResult> {
  const timeoutMs = Math.max(1, Math.floor(opts.timeoutMs));
  const client = createDeliveryClient({
    identity: () => opts.identity,
    cipherPolicy: opts.cipherPolicy,
    allowPrivateTargets: opts.allowPrivateTargets,
    ...(opts.lookup ? { lookup: opts.lookup } : {}),
    now: opts.now,
    dnsTimeoutMs: timeoutMs,
    connectTimeoutMs: timeoutMs,
    tlsTimeoutMs: timeoutMs,
    headersTimeoutMs: timeoutMs,
    totalTimeoutMs: timeoutMs,
    connectionsPerOrigin: 1,
  });
  try {
    const nowMs = opts.now();
    const msgId = `msg_check_${randomBytes(9).toString('base64url')}`;
    const body = JSON.stringify({
      type: 'hookwarden.check',
      timestamp: new Date(nowMs).toISOString(),
      data: { url: opts.url },
    });
    const headers = signedHeaders({
      msgId,
      timestamp: Math.floor(nowMs / 1000),
      body,
      secrets: [opts.secret ?? generateSecret()],
    });
    const outcome = await client.deliver({
      url: opts.url,
      // The body's type says it is a check, under the signature; the header lets a receiver (or its
      // logs) tell before parsing. Neither is a real event: answer 2xx and act on nothing.
      headers: { ...headers, 'content-type': 'application/json', [CHECK_HEADER]: '1' },
      body,
      ...(opts.serverCaPem ? { tls: { serverCaPem: opts.serverCaPem } } : {}),
    });
    const result: TestEventResult = { latencyMs: outcome.durationMs };
    if (outcome.statusCode !== undefined) result.statusCode = outcome.statusCode;
    else if (outcome.failure) result.error = `${outcome.failure.kind}: ${outcome.failure.message}`;
    else if (!outcome.ok) result.error = 'no HTTP response';
    return result;
  } finally {
    await client.close();
  }
}

/** A harmless request to see whether the server lets a connection through to HTTP. */
export function probeRequest(url: URL): string {
  return [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    'User-Agent: hookwarden-check',
    'Connection: close',
    '',
    '',
  ].join('\r\n');
}
