/** The header the gate adds for the upstream; inbound copies are always removed first. */
export const VERIFIED_HEADER = 'hookwarden-verified';

/**
 * JSON of the verified facts, as one header value. Non-ASCII (a DN may hold any Unicode) is written
 * as \uXXXX escapes: header values are Latin-1 on the wire, and JSON.parse restores the text exactly.
 */
export function verifiedHeaderValue(facts: unknown): string {
  return JSON.stringify(facts).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
