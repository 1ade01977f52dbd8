/**
 * IP addresses and CIDR sets, parsed to bytes so that IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`,
 * in any spelling) are the IPv4 address they carry. `net.BlockList` silently answers false for
 * a mapped address checked against an IPv4 rule unless told the family, so we match bytes ourselves.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Lru } from './lru.ts';

export interface ParsedIp {
  /** 4 bytes for IPv4 (including IPv4-mapped IPv6), 16 for IPv6. */
  bytes: Uint8Array;
  /** Canonical text: dotted quad, or lower-case compressed IPv6. */
  text: string;
}

export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

/**
 * Parsed addresses by their text. The same few addresses (the proxy, the platform's egress) come
 * on every request, and parsing them measured ~2% of the gate's CPU per request. Parsing is a pure
 * function of the text; results are shared, so treat them as read-only.
 */
const parsedIps = new Lru<string, ParsedIp | null>(1024);

/** Parses an address; strips an IPv6 zone; undefined when it is not an address. */
export function parseIp(input: string): ParsedIp | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const known = parsedIps.get(input);
  if (known !== undefined) return known ?? undefined;
  const ip = parseIpText(input);
  parsedIps.set(input, ip ?? null);
  return ip;
}

function parseIpText(input: string): ParsedIp | undefined {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0 && s.includes(':')) s = s.slice(0, zone);
  if (isIPv4(s)) {
    const bytes = Uint8Array.from(s.split('.').map(Number));
    return { bytes, text: bytes.join('.') };
  }
  if (!isIPv6(s)) return undefined;
  const bytes = ipv6Bytes(s);
  if (bytes === undefined) return undefined;
  if (isMapped(bytes)) {
    const v4 = bytes.slice(12);
    return { bytes: v4, text: v4.join('.') };
  }
  return { bytes, text: ipv6Text(bytes) };
}

function isMapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

function ipv6Bytes(s: string): Uint8Array | undefined {
  let text = s;
  // An embedded dotted quad (`::ffff:1.2.3.4`) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!isIPv4(last)) return undefined;
    const q = last.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string | undefined) =>
    h ? h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? Number.parseInt(g, 16) : -1)) : [];
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = halves.length === 2 ? [...head, ...new Array<number>(missing).fill(0), ...rest] : head;
  if (groups.some((g) => g < 0)) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

function ipv6Text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952: compress the longest run (of at least two) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * Parses `a.b.c.d/n`, `v6/n` or a bare address. Host bits set are refused: `10.0.0.1/8` is more
 * likely a typo than an intent, and silently masking it would widen or shift the allowlist.
 * Returns an error text instead of throwing so callers can name their field.
 */
export function parseCidr(input: string): Cidr | string {
  if (typeof input !== 'string') return 'is not a string';
  const slash = input.indexOf('/');
  const addressText = slash < 0 ? input : input.slice(0, slash);
  if (addressText.includes('%')) return `${JSON.stringify(input)} has a zone; CIDRs cannot`;
  const ip = parseIp(addressText);
  if (!ip) return `${JSON.stringify(input)} is not an IP address or CIDR`;
  const mapped = ip.bytes.length === 4 && addressText.includes(':');
  const max = mapped ? 128 : ip.bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = input.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `${JSON.stringify(input)} has an invalid prefix length`;
    prefix = Number(p);
  }
  if (mapped) {
    if (prefix < 96) return `${JSON.stringify(input)} mixes IPv4-mapped and other IPv6 addresses`;
    prefix -= 96;
  }
  const masked = mask(ip.bytes, prefix);
  if (!equalBytes(masked, ip.bytes)) {
    const fixed = masked.length === 4 ? masked.join('.') : ipv6Text(masked);
    return `${JSON.stringify(input)} has host bits set; did you mean ${fixed}/${prefix}?`;
  }
  return { bytes: masked, prefix, text: `${ip.text}/${prefix}` };
}

function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function cidrContains(cidr: Cidr, ip: ParsedIp): boolean {
  if (cidr.bytes.length !== ip.bytes.length) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[full]! & m) === cidr.bytes[full];
}

/** A set of CIDRs, matched in order (lists are short: a handful of egress ranges or proxies). */
export class IpSet {
  readonly cidrs: readonly Cidr[];

  constructor(cidrs: Cidr[]) {
    this.cidrs = cidrs;
  }

  /** Parses every entry, throwing `onError(index, problem)`'s result for the first bad one. */
  static parse(entries: readonly string[], onError: (index: number, problem: string) => Error): IpSet {
    return new IpSet(
      entries.map((e, i) => {
        const c = parseCidr(e);
        if (typeof c === 'string') throw onError(i, c);
        return c;
      }),
    );
  }

  has(ip: ParsedIp | string | undefined): boolean {
    const parsed = typeof ip === 'string' ? parseIp(ip) : ip;
    if (!parsed) return false;
    return this.cidrs.some((c) => cidrContains(c, parsed));
  }
}
