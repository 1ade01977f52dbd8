import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { forbiddenAddressReason } from './address.ts';
import { DeliveryError } from './errors.ts';

export { forbiddenAddressReason } from './address.ts';

export interface LookupAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has. Injectable so tests never need real DNS. */
export type LookupFn = (hostname: string) => Promise<LookupAddress[]>;

export const systemLookup: LookupFn = async (hostname) => {
  const all = await dnsLookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** `[::1]` → `::1`: URL host names keep the brackets of IPv6 literals. */
export function bareHostname(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** RFC 6761: `localhost` and `*.localhost` are loopback whatever a resolver answers. */
function isLocalhostName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/** What lifts the refusal, by the flag that does it (serve's and check's alike). */
export const PRIVATE_TARGETS_ADVICE =
  'non-public targets are allowed only with --allow-private-targets (development only)';

/**
 * Why a host name is refused before any lookup, or undefined. The endpoint checker asks the same
 * question, so that it never dials a name delivery would refuse.
 */
export function nameRefusal(host: string, allowPrivateTargets: boolean): string | undefined {
  return !allowPrivateTargets && isLocalhostName(host)
    ? `${host} is a loopback name (RFC 6761); ${PRIVATE_TARGETS_ADVICE}`
    : undefined;
}

/**
 * Resolves `hostname` once and judges every address: one forbidden address refuses the whole name
 * (a resolver that mixes a public and a private answer is either broken or an attack). The caller
 * dials only the addresses returned here, so a second, different answer (DNS rebinding) is never
 * consulted.
 */
export async function resolveAllowed(
  hostname: string,
  opts: { allowPrivateTargets: boolean; lookup?: LookupFn },
): Promise<LookupAddress[]> {
  const host = bareHostname(hostname);
  const literal = isIP(host);
  let addresses: LookupAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    const refused = nameRefusal(host, opts.allowPrivateTargets);
    if (refused !== undefined) throw new DeliveryError('HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', refused);
    try {
      addresses = await (opts.lookup ?? systemLookup)(host);
    } catch (err) {
      throw new DeliveryError(
        'HW_ENDPOINT_URL_UNRESOLVABLE',
        `cannot resolve ${host}: ${(err as Error)?.message ?? err}`,
        { cause: err },
      );
    }
    if (!Array.isArray(addresses) || addresses.length === 0) {
      throw new DeliveryError('HW_ENDPOINT_URL_UNRESOLVABLE', `${host} resolves to no address`);
    }
  }
  for (const a of addresses) {
    const reason = forbiddenAddressReason(a.address);
    if (reason === 'not an IP address') {
      throw new DeliveryError('HW_ENDPOINT_URL_UNRESOLVABLE', `${host} resolved to '${a.address}', not an address`);
    }
    if (reason && !opts.allowPrivateTargets) throw forbidden(host, literal !== 0, a.address, reason);
  }
  return addresses;
}

/**
 * A refusal of an address, at lookup or at connect time. A literal IP in the URL is the caller's own
 * input, so the address is told (`literal`). For a host name, the address would tell the caller (an
 * application token, or a tenant reading its attempt log) how the platform's internal DNS maps that
 * name: the answer says `name`, and the address stays in `logDetail` (`logged`) only.
 */
export function addressRefusal(host: string, text: { literal: string; name: string; logged: string }): DeliveryError {
  if (isIP(bareHostname(host)) !== 0) return new DeliveryError('HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', text.literal);
  return new DeliveryError('HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', text.name, { logDetail: text.logged });
}

function forbidden(host: string, literal: boolean, address: string, reason: string): DeliveryError {
  const full = `${address}${literal ? '' : ` (resolved from ${host})`} is not a public address: ${reason}`;
  return addressRefusal(host, {
    literal: `${full}; ${PRIVATE_TARGETS_ADVICE}`,
    name: `${host} resolves to a non-public address; ${PRIVATE_TARGETS_ADVICE}`,
    logged: full,
  });
}

/**
 * The check run when an endpoint is created or its URL changed, so a customer learns at once that a
 * URL can never be delivered to. The dispatcher checks again at connect time (`resolveAllowed`).
 */
export async function assertTargetAllowed(
  url: string,
  opts: { allowPrivateTargets: boolean; allowHttp: boolean; lookup?: LookupFn },
): Promise<void> {
  const parsed = parseEndpointUrl(url, opts.allowHttp);
  await resolveAllowed(parsed.hostname, opts);
}

/** Parses and checks the scheme of an endpoint URL; throws HW_ENDPOINT_URL_* with the reason. */
export function parseEndpointUrl(url: string, allowHttp: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DeliveryError('HW_ENDPOINT_URL_INVALID', `'${String(url).slice(0, 200)}' is not a valid URL`);
  }
  if (parsed.protocol === 'http:') {
    if (!allowHttp) {
      throw new DeliveryError(
        'HW_ENDPOINT_URL_HTTP_NOT_ALLOWED',
        'plain http:// sends callbacks unencrypted and unauthenticated; use https:// or allow http for this endpoint explicitly',
      );
    }
  } else if (parsed.protocol !== 'https:') {
    throw new DeliveryError('HW_ENDPOINT_URL_SCHEME', `scheme '${parsed.protocol}' is not supported: use https://`);
  }
  if (parsed.hostname === '') {
    throw new DeliveryError('HW_ENDPOINT_URL_INVALID', 'the URL has no host');
  }
  return parsed;
}
