import { randomBytes } from 'node:crypto';
import { generateSecret, sign } from '@hookwarden/verify/signature';

/**
 * The request of the default test event: a `hookwarden.check` event signed the Standard Webhooks
 * way, as a raw HTTP/1.1 request so it travels on a connection the checker made itself (to the
 * address it already checked, with the dispatcher's TLS settings and the platform's certificate).
 * Without the endpoint's secret it is signed with a throwaway one; only the API knows the real one.
 */
export function testEventRequest(url: URL, opts: { nowMs: number; secret?: string | undefined }): string {
  const msgId = `msg_check_${randomBytes(9).toString('base64url')}`;
  const timestamp = Math.floor(opts.nowMs / 1000);
  const body = JSON.stringify({
    type: 'hookwarden.check',
    timestamp: new Date(opts.nowMs).toISOString(),
    data: { url: url.href },
  });
  const signature = sign({ msgId, timestamp, body, secrets: [opts.secret ?? generateSecret()] });
  return [
    `POST ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    'User-Agent: hookwarden-check',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `webhook-id: ${msgId}`,
    `webhook-timestamp: ${timestamp}`,
    `webhook-signature: ${signature}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
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
