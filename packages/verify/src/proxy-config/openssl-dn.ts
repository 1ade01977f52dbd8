import { optionError } from './options.ts';

/** One RDN as `@hookwarden/verify/dn` parses it: several entries = multi-valued. */
export type Rdn = { type: string; value: string }[];

// OpenSSL's short names, which it prints in $ssl_client_s_dn / ssl_c_s_dn(,0,rfc2253). Keys are the
// lower-cased names and OIDs a DN may be written with. A type not listed would be printed by OpenSSL
// as an OID with a hex dump, which nobody writes by hand: refusing it beats a check that never matches.
const SHORT_NAMES: Record<string, string> = {};
for (const [short, ...aliases] of [
  ['CN', 'commonname', '2.5.4.3'],
  ['C', 'countryname', '2.5.4.6'],
  ['L', 'localityname', '2.5.4.7'],
  ['ST', 'stateorprovincename', 's', '2.5.4.8'],
  ['street', 'streetaddress', '2.5.4.9'],
  ['O', 'organizationname', '2.5.4.10'],
  ['OU', 'organizationalunitname', '2.5.4.11'],
  ['title', '2.5.4.12'],
  ['serialNumber', '2.5.4.5'],
  ['SN', 'surname', '2.5.4.4'],
  ['GN', 'givenname', '2.5.4.42'],
  ['postalCode', '2.5.4.17'],
  ['DC', 'domaincomponent', '0.9.2342.19200300.100.1.25'],
  ['UID', 'userid', '0.9.2342.19200300.100.1.1'],
  ['emailAddress', 'e', 'email', '1.2.840.113549.1.9.1'],
] as const) {
  for (const name of [short, ...aliases]) SHORT_NAMES[name.toLowerCase()] = short;
}

const SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';']);

function escapeValue(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  bytes.forEach((b, i) => {
    const ch = String.fromCharCode(b);
    // ESC_MSB and ESC_CTRL: OpenSSL prints every non-ASCII byte of the UTF-8 form, and every control
    // byte, as \XX; ESC_2253 escapes the RFC 2253 specials and a leading '#'/space or trailing space.
    // OpenSSL's quirk, kept because the map must match its output: in a one-character value the
    // "last character" rule replaces the "first character" one, so a lone '#' is printed bare.
    const first = i === 0;
    const last = i === bytes.length - 1;
    if (b >= 0x80 || b < 0x20 || b === 0x7f) out += `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (SPECIAL.has(ch) || (ch === '#' && first && !last) || (ch === ' ' && (first || last))) {
      out += `\\${ch}`;
    } else out += ch;
  });
  return out;
}

/**
 * The string OpenSSL's X509_NAME_print_ex(XN_FLAG_RFC2253) prints for this DN — what nginx puts in
 * $ssl_client_s_dn and HAProxy in ssl_c_s_dn(,0,rfc2253). RFC 4514 strings are already written most
 * specific first, as OpenSSL prints them, so the order is kept as written.
 */
export function opensslRfc2253(rdns: Rdn[], field: string): string {
  return rdns
    .map((rdn) =>
      rdn
        .map(({ type, value }) => {
          const short = SHORT_NAMES[type.toLowerCase()];
          if (short === undefined) {
            throw optionError(
              field,
              `attribute type '${type}' cannot be matched in the proxy; pin a fingerprint instead`,
            );
          }
          return `${short}=${escapeValue(value)}`;
        })
        .join('+'),
    )
    .join(',');
}
