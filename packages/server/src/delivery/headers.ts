/**
 * Connection-level header names (RFC 9110 §7.6.1 and the hop-by-hop ones HTTP/1.1 proxies strip):
 * they describe this one connection and its framing, so the delivery client sets them itself and
 * refuses a request that carries any. The API refuses them on endpoints with the same list, so a
 * header it accepts is never one every attempt would then fail on.
 */
export const CONNECTION_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Whether `name` (any case) is a header the delivery client sets itself. */
export function isConnectionHeader(name: string): boolean {
  return CONNECTION_HEADERS.has(name.toLowerCase());
}
