import { sign } from '@hookwarden/verify/signature';

/**
 * The Standard Webhooks headers for one message. The scheme itself lives in
 * `@hookwarden/verify/signature`, so the platform signs with exactly the code receivers verify with.
 * Several secrets (rotation) give several space-separated signatures.
 */
export function signedHeaders(input: { msgId: string; timestamp: number; body: string; secrets: string[] }): {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
} {
  return {
    'webhook-id': input.msgId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': sign(input),
  };
}
