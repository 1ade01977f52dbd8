/**
 * The client address behind trusted proxies. `X-Forwarded-For` and `Forwarded` are lists that every
 * hop appends to, so anyone can put anything at the left: we start at the socket peer and walk
 * from the right, stepping over an entry only while the hop that wrote it is a trusted proxy.
 */
import { VerificationError } from './errors.ts';
import { type IpSet, type ParsedIp, parseIp } from './ip.ts';
import type { Headers } from './signature.ts';

export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

/** Bounds the work per request; real chains have a few hops. */
const MAX_HOPS = 32;

/** `unknown` or an obfuscated identifier (RFC 7239 §6): a hop we cannot place. */
export const UNKNOWN_HOP = 'unknown';

export function headerValues(headers: Headers, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** `X-Forwarded-For: a, b, c` (several header lines concatenate): addresses, optionally with a port. */
export function parseXForwardedFor(values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const raw of value.split(',')) {
      if (out.length >= MAX_HOPS) throw new VerificationError('HW_FORWARDED_INVALID', 'too many X-Forwarded-For hops');
      const entry = raw.trim();
      out.push(hopAddress(entry, 'X-Forwarded-For'));
    }
  }
  return out;
}

/** RFC 7239 `Forwarded: for=192.0.2.1;proto=https, for="[2001:db8::1]:443"`: the `for` of each element. */
export function parseForwarded(values: string[]): { fors: string[]; protos: (string | undefined)[] } {
  const fors: string[] = [];
  const protos: (string | undefined)[] = [];
  for (const value of values) {
    for (const element of splitOutsideQuotes(value, ',')) {
      if (fors.length >= MAX_HOPS) throw new VerificationError('HW_FORWARDED_INVALID', 'too many Forwarded hops');
      let forValue: string | undefined;
      let proto: string | undefined;
      for (const pair of splitOutsideQuotes(element, ';')) {
        const trimmed = pair.trim();
        if (trimmed === '') continue;
        const eq = trimmed.indexOf('=');
        if (eq <= 0) throw new VerificationError('HW_FORWARDED_INVALID', 'Forwarded has a pair without "="');
        const key = trimmed.slice(0, eq).toLowerCase();
        const v = unquote(trimmed.slice(eq + 1));
        if (key === 'for') {
          if (forValue !== undefined) throw new VerificationError('HW_FORWARDED_INVALID', 'Forwarded repeats "for"');
          forValue = v;
        } else if (key === 'proto') proto = v.toLowerCase();
      }
      if (forValue === undefined) throw new VerificationError('HW_FORWARDED_INVALID', 'Forwarded element has no "for"');
      fors.push(hopAddress(forValue, 'Forwarded'));
      protos.push(proto);
    }
  }
  return { fors, protos };
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw new VerificationError('HW_FORWARDED_INVALID', 'unterminated quoted string');
  parts.push(s.slice(start));
  return parts;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  if (v.includes('"')) throw new VerificationError('HW_FORWARDED_INVALID', 'stray quote in Forwarded');
  return v;
}

/** One hop: an address, `a.b.c.d:port`, `[v6]` or `[v6]:port`; `unknown` / `_obfuscated` kept as unknown. */
function hopAddress(entry: string, header: string): string {
  if (entry === 'unknown' || /^_[A-Za-z0-9._-]+$/.test(entry)) return UNKNOWN_HOP;
  let text = entry;
  const bracket = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(entry);
  if (bracket) text = bracket[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(entry)) text = entry.slice(0, entry.indexOf(':'));
  const ip = parseIp(text);
  if (!ip) throw new VerificationError('HW_FORWARDED_INVALID', `${header} holds ${JSON.stringify(entry.slice(0, 64))}`);
  return ip.text;
}

export interface ClientAddress {
  /** The client address, or `unknown` when a trusted hop could not name it. */
  ip: string;
  /** Whether the socket peer is a trusted proxy (so its other headers may be believed). */
  viaTrustedProxy: boolean;
  /** `https`/`http` as stated by the trusted proxy nearest to us, when it said. */
  proto?: string;
}

/**
 * Resolves the client address. Forwarding headers from an untrusted peer are ignored (the peer is
 * the client): unlike client-certificate headers they are routinely present and harmless then.
 */
export function resolveClientAddress(
  remoteAddress: string,
  headers: Headers,
  trusted: IpSet,
  header: ForwardedHeader,
): ClientAddress {
  const peer: ParsedIp | undefined = parseIp(remoteAddress);
  if (!peer) throw new VerificationError('HW_FORWARDED_INVALID', 'the socket peer address is not an IP address');
  if (!trusted.has(peer)) return { ip: peer.text, viaTrustedProxy: false };
  let hops: string[];
  let proto: string | undefined;
  if (header === 'forwarded') {
    const parsed = parseForwarded(headerValues(headers, 'forwarded'));
    hops = parsed.fors;
    proto = parsed.protos.at(-1);
  } else {
    hops = parseXForwardedFor(headerValues(headers, 'x-forwarded-for'));
    const xfp = headerValues(headers, 'x-forwarded-proto').join(',').split(',').at(-1)?.trim().toLowerCase();
    proto = xfp || undefined;
  }
  let ip = peer.text;
  for (let i = hops.length - 1; i >= 0; i--) {
    ip = hops[i]!;
    if (ip === UNKNOWN_HOP || !trusted.has(ip)) break;
  }
  return { ip, viaTrustedProxy: true, ...(proto === undefined ? {} : { proto }) };
}
