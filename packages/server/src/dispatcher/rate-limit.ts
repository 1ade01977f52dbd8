/**
 * Per-endpoint token buckets for an endpoint's `rateLimit` (deliveries per second, as Svix defines
 * it). A full bucket holds one second's worth: an endpoint that was quiet may take `rate` at once,
 * then `rate` per second. Pure arithmetic on the caller's clock, so it is tested with explicit times.
 */
export interface RateLimiter {
  /** Takes a token for the endpoint at `now`: 0 when taken, else the milliseconds until one is due. */
  take(endpointId: string, rate: number, now: number): number;
}

export function createRateLimiter(): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number; rate: number }>();
  return {
    take(endpointId, rate, now) {
      let b = buckets.get(endpointId);
      if (b === undefined || b.rate !== rate) {
        // New, or the limit was changed: start full at the new rate.
        b = { tokens: rate, at: now, rate };
        buckets.set(endpointId, b);
      } else {
        // A clock that steps back refills nothing.
        b.tokens = Math.min(rate, b.tokens + (Math.max(0, now - b.at) * rate) / 1000);
        b.at = Math.max(b.at, now);
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      // Rounded up to whole milliseconds, without letting float error add one.
      return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / rate - 1e-9));
    },
  };
}
