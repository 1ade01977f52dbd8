import { X509Certificate } from 'node:crypto';
import { PKI_CODES, PkiError } from './errors.ts';

const MAX_PEM_CHARS = 1_000_000;
const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';
const LABEL_CHAR = /[A-Z0-9 ]/;

/** The label after a BEGIN/END marker at `at` (`[A-Z0-9 ]+` closed by five dashes), if there is one. */
function labelAt(text: string, at: number): string | undefined {
  let end = at;
  while (end < text.length && LABEL_CHAR.test(text[end]!)) end++;
  return end > at && text.startsWith(DASHES, end) ? text.slice(at, end) : undefined;
}

/**
 * The PEM blocks of a text in order: what `/-----BEGIN (L)-----([\s\S]*?)-----END \1-----/g` finds,
 * in linear time. The regex retries every later BEGIN against the rest of the text (quadratic on a
 * file of BEGIN lines); here every END marker is found once, up front, and each BEGIN takes the
 * first END of its label at or after its body.
 */
export function pemBlocks(text: string): { label: string; body: string }[] {
  const ends = new Map<string, { at: number[]; next: number }>();
  for (let at = text.indexOf(END); at !== -1; at = text.indexOf(END, at + 1)) {
    const label = labelAt(text, at + END.length);
    if (label === undefined) continue;
    const list = ends.get(label) ?? { at: [], next: 0 };
    list.at.push(at);
    ends.set(label, list);
  }
  const blocks: { label: string; body: string }[] = [];
  let from = 0;
  for (let at = text.indexOf(BEGIN, from); at !== -1; at = text.indexOf(BEGIN, from)) {
    const label = labelAt(text, at + BEGIN.length);
    const list = label === undefined ? undefined : ends.get(label);
    from = at + 1;
    if (label === undefined || list === undefined) continue;
    const bodyStart = at + BEGIN.length + label.length + DASHES.length;
    // Body starts only grow per label, so each END position is passed over once.
    while (list.next < list.at.length && list.at[list.next]! < bodyStart) list.next++;
    const end = list.at[list.next];
    if (end === undefined) continue;
    blocks.push({ label, body: text.slice(bodyStart, end) });
    from = end + END.length + label.length + DASHES.length;
  }
  return blocks;
}

/**
 * The DER of every CERTIFICATE block in a PEM text, in order. Anything else between blocks is
 * ignored, as OpenSSL does; no certificate at all, or a block that is not base64, is an error.
 */
export function certificateDers(pem: string, what = 'certificate'): Buffer[] {
  if (typeof pem !== 'string') throw new PkiError(PKI_CODES.PEM_INVALID, `the ${what} must be PEM text`);
  // Certificate files are kilobytes; megabytes are a wrong file (or an attack), not a bundle.
  if (pem.length > MAX_PEM_CHARS) {
    throw new PkiError(
      PKI_CODES.PEM_INVALID,
      `the ${what} is larger than ${MAX_PEM_CHARS} characters: give a PEM file`,
    );
  }
  const out: Buffer[] = [];
  for (const block of pemBlocks(pem)) {
    if (block.label !== 'CERTIFICATE') continue;
    const body = block.body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new PkiError(PKI_CODES.PEM_INVALID, `the ${what} holds a CERTIFICATE block that is not valid base64`);
    }
    out.push(Buffer.from(body, 'base64'));
  }
  if (out.length === 0) {
    throw new PkiError(
      PKI_CODES.PEM_INVALID,
      `the ${what} holds no "-----BEGIN CERTIFICATE-----" block: give the PEM certificate file`,
    );
  }
  return out;
}

/** Parses one certificate (PEM text or DER bytes). Throws HW_PKI_PEM_INVALID. */
export function toX509(cert: string | Uint8Array, what = 'certificate'): X509Certificate {
  const der = typeof cert === 'string' ? certificateDers(cert, what)[0]! : cert;
  try {
    const x = new X509Certificate(der);
    // A key Node cannot read (a mangled curve OID) parses here and throws OpenSSL's error on first
    // use; reading it now (Node keeps it) makes that a PkiError for every caller.
    void x.publicKey;
    return x;
  } catch (cause) {
    throw new PkiError(PKI_CODES.PEM_INVALID, `the ${what} is not a readable X.509 certificate`, { cause });
  }
}

/** Every certificate of a PEM text, parsed. */
export function toX509s(pem: string, what = 'certificate'): X509Certificate[] {
  return certificateDers(pem, what).map((der) => toX509(der, what));
}

/** PEM of a DER certificate, 64-column base64, trailing newline. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Normalises PEM text (any certificates it holds) to our one layout. */
export function normalisePem(pem: string, what = 'certificate'): string {
  return certificateDers(pem, what)
    .map((der) => derToPem(der))
    .join('');
}
