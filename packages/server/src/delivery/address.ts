import { isIP } from 'node:net';

/**
 * The address classifier behind the SSRF guard: pure, total (never throws), fail-closed. Anything
 * that is not a well-formed global unicast address gets a reason. Tables follow the IANA IPv4 and
 * IPv6 special-purpose address registries; IPv6 forms that embed an IPv4 address (mapped,
 * compatible, 6to4, NAT64, Teredo) are judged by the address they lead to.
 */

type V4Rule = readonly [base: number, prefix: number, reason: string];

const V4_RULES: readonly V4Rule[] = [
  [v4('0.0.0.0'), 8, 'unspecified ("this network", 0.0.0.0/8)'],
  [v4('10.0.0.0'), 8, 'private (RFC 1918, 10.0.0.0/8)'],
  [v4('100.64.0.0'), 10, 'shared address space (CGNAT, 100.64.0.0/10)'],
  [v4('127.0.0.0'), 8, 'loopback (127.0.0.0/8)'],
  [v4('169.254.0.0'), 16, 'link-local (169.254.0.0/16, cloud metadata services live here)'],
  [v4('172.16.0.0'), 12, 'private (RFC 1918, 172.16.0.0/12)'],
  [v4('192.0.0.0'), 24, 'IETF protocol assignments (192.0.0.0/24)'],
  [v4('192.0.2.0'), 24, 'documentation (TEST-NET-1, 192.0.2.0/24)'],
  [v4('192.88.99.0'), 24, 'deprecated 6to4 relay anycast (192.88.99.0/24)'],
  [v4('192.168.0.0'), 16, 'private (RFC 1918, 192.168.0.0/16)'],
  [v4('198.18.0.0'), 15, 'benchmarking (198.18.0.0/15)'],
  [v4('198.51.100.0'), 24, 'documentation (TEST-NET-2, 198.51.100.0/24)'],
  [v4('203.0.113.0'), 24, 'documentation (TEST-NET-3, 203.0.113.0/24)'],
  [v4('224.0.0.0'), 4, 'multicast (224.0.0.0/4)'],
  [v4('255.255.255.255'), 32, 'broadcast (255.255.255.255)'],
  [v4('240.0.0.0'), 4, 'reserved (240.0.0.0/4)'],
];

/** Why `ip` must not be dialled, or undefined for a global unicast address. Never throws. */
export function forbiddenAddressReason(ip: string): string | undefined {
  if (typeof ip !== 'string') return 'not an IP address';
  const kind = isIP(ip);
  if (kind === 4) return v4Reason(v4(ip));
  if (kind === 6) {
    const groups = parseV6(ip);
    return groups ? v6Reason(groups) : 'not an IP address';
  }
  return 'not an IP address';
}

/** The IPv4 address an IPv6 address leads to when it is an IPv4-mapped one (`::ffff:a.b.c.d`). */
export function unmapIPv4(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const g = parseV6(ip);
  if (g && isZero(g, 0, 5) && g[5] === 0xffff) return v4String(((g[6]! << 16) | g[7]!) >>> 0);
  return ip;
}

/**
 * Whether two strings name the same address, compared parsed rather than as text: a resolver may
 * answer `0:0:0:0:0:0:0:1` where the socket reports `::1`, or `::ffff:a.b.c.d` for `a.b.c.d`. The
 * zone id is ignored (it picks an interface, not an address). False when either is not an address.
 */
export function sameAddress(a: string, b: string): boolean {
  const key = addressKey(a);
  return key !== undefined && key === addressKey(b);
}

/** One spelling per address: IPv4 dotted (IPv4-mapped IPv6 included), else the eight IPv6 groups. */
function addressKey(ip: string): string | undefined {
  if (typeof ip !== 'string') return undefined;
  const kind = isIP(ip);
  if (kind === 4) return v4String(v4(ip));
  if (kind !== 6) return undefined;
  const g = parseV6(ip);
  if (!g) return undefined;
  if (isZero(g, 0, 5) && g[5] === 0xffff) return v4String(((g[6]! << 16) | g[7]!) >>> 0);
  return g.map((x) => x.toString(16)).join(':');
}

function v4Reason(addr: number): string | undefined {
  for (const [base, prefix, reason] of V4_RULES) {
    if (inV4(addr, base, prefix)) return reason;
  }
  return undefined;
}

function v6Reason(g: readonly number[]): string | undefined {
  const embedded = (addr: number, form: string): string | undefined => {
    const reason = v4Reason(addr);
    return reason ? `${form} form of ${v4String(addr)}: ${reason}` : undefined;
  };
  const low32 = ((g[6]! << 16) | g[7]!) >>> 0;
  if (isZero(g, 0, 8)) return 'unspecified (::)';
  if (isZero(g, 0, 7) && g[7] === 1) return 'loopback (::1)';
  if (isZero(g, 0, 5) && g[5] === 0xffff) return embedded(low32, 'IPv4-mapped');
  if (isZero(g, 0, 6)) return embedded(low32, 'IPv4-compatible') ?? 'deprecated IPv4-compatible address (::/96)';
  if (g[0] === 0x64 && g[1] === 0xff9b && isZero(g, 2, 6)) return embedded(low32, 'NAT64');
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'local-use NAT64 (64:ff9b:1::/48)';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast (ff00::/8)';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local (fe80::/10)';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'deprecated site-local (fec0::/10)';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique local (fc00::/7)';
  if (g[0] === 0x2002) {
    const inner = ((g[1]! << 16) | g[2]!) >>> 0;
    return embedded(inner, '6to4');
  }
  if (g[0] === 0x2001 && g[1] === 0) {
    // Teredo: the server's IPv4 in bits 32..63, the client's (bit-inverted) in the last 32 bits.
    const server = ((g[2]! << 16) | g[3]!) >>> 0;
    const client = ~low32 >>> 0;
    return embedded(server, 'Teredo server') ?? embedded(client, 'Teredo client');
  }
  if (g[0] === 0x2001 && g[1]! < 0x200) return 'IETF protocol assignments (2001::/23)';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation (2001:db8::/32)';
  if (g[0] === 0x3fff && g[1]! < 0x1000) return 'documentation (3fff::/20)';
  if (g[0] === 0x5f00) return 'segment routing SIDs (5f00::/16)';
  if ((g[0]! & 0xe000) !== 0x2000) return 'reserved (outside global unicast 2000::/3)';
  return undefined;
}

function v4(s: string): number {
  const p = s.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

function v4String(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function inV4(addr: number, base: number, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (addr & mask) >>> 0 === base;
}

function isZero(g: readonly number[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (g[i] !== 0) return false;
  return true;
}

/** Eight 16-bit groups of an address `isIP` already accepted as IPv6 (zone id dropped). */
function parseV6(ip: string): number[] | undefined {
  let s = ip;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const n = v4(s.slice(lastColon + 1));
    tail.push(n >>> 16, n & 0xffff);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  const parse = (part: string | undefined): number[] =>
    part
      ? part
          .split(':')
          .filter((x) => x !== '')
          .map((x) => Number.parseInt(x, 16))
      : [];
  const head = parse(halves[0]);
  const rest = [...parse(halves[1]), ...tail];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  const groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest];
  return groups.length === 8 && groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : undefined;
}
