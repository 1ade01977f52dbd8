import { createSigner, type Signer, sign } from '@hookwarden/verify/signature';
import type { ClaimedDelivery, EndpointRow } from '../store/types.ts';

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

/**
 * An HMAC endpoint's signer at instant `at`: its secrets live then (rotation keeps the old one until
 * it expires), decoded once, and the instant that set next changes. Throws when none is live.
 */
export function hmacSignerAt(e: EndpointRow, at: number): { sign: Signer; until: number } {
  const live = e.secrets.filter((s) => s.expiresAt === null || s.expiresAt > at);
  if (live.length === 0) throw new Error(`endpoint ${e.id} has no signing key`);
  return {
    sign: createSigner(live.map((s) => s.key)),
    until: Math.min(...live.map((s) => s.expiresAt ?? Number.POSITIVE_INFINITY)),
  };
}

/**
 * Signs claimed rows ahead, for the second of `now`, on whichever thread claims them: the SQLite
 * store's thread does, so the HMAC (~2 µs a delivery, a twentieth of the delivering thread's time in
 * bench/dispatch.ts) is not computed on the thread that delivers. The signature is exactly what the
 * dispatcher would compute when it starts the delivery within that second and before a secret
 * expires (`until`); otherwise it signs afresh. Ed25519 endpoints are left alone (the platform's keys
 * are not the store's), as are endpoints without a live secret (the dispatcher reports those).
 */
export function presign(rows: readonly ClaimedDelivery[], now: number): void {
  const timestamp = Math.floor(now / 1000);
  const endOfSecond = (timestamp + 1) * 1000;
  const signers = new Map<EndpointRow, { sign: Signer; until: number } | null>();
  for (const d of rows) {
    if (d.endpoint.signing !== 'hmac') continue;
    let signer = signers.get(d.endpoint);
    if (signer === undefined) {
      try {
        signer = hmacSignerAt(d.endpoint, now);
      } catch {
        signer = null;
      }
      signers.set(d.endpoint, signer);
    }
    if (signer === null) continue;
    try {
      const value = signer.sign(d.message.id, timestamp, d.message.payload);
      d.presigned = { timestamp, until: Math.min(signer.until, endOfSecond), value };
    } catch {
      // Unsignable (the dispatcher will say why when it tries): nothing computed ahead.
    }
  }
}
