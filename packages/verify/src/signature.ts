/**
 * Standard Webhooks signatures, for both sides: the platform signs with `sign`, receivers check with
 * `verifySignature` (or the faster `createSignatureChecker`, which decodes keys once).
 *
 * Signed content: `${webhook-id}.${webhook-timestamp}.${raw body}`. Receivers refuse ids holding a
 * `.` unless told otherwise (`allowDotsInId`): with one, that text has more than one reading.
 * - `v1,<base64 HMAC-SHA256>` with a shared secret `whsec_<base64>`;
 * - `v1a,<base64 Ed25519 signature>` with a key pair `whsk_...` / `whpk_<base64 raw 32 bytes>`.
 * Several signatures are space-separated (one per secret while rotating); one match is enough.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { PolicyError, VerificationError } from './errors.ts';

export type Headers = Record<string, string | string[] | undefined>;

export const DEFAULT_TOLERANCE_SECONDS = 300;
/** More entries than any real rotation needs; bounds the work an attacker can make us do. */
const MAX_SIGNATURES = 16;
const HMAC_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function generateSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64');
}

export function generateEd25519Key(): { secret: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    // The raw seed: the shortest form, and what other Standard Webhooks libraries expect.
    secret: 'whsk_' + pkcs8.subarray(PKCS8_ED25519_PREFIX.length).toString('base64'),
    publicKey: 'whpk_' + spki.subarray(spki.length - 32).toString('base64'),
  };
}

function decodeBase64(value: string, field: string): Buffer {
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new PolicyError(field, 'is not valid base64');
  return Buffer.from(value, 'base64');
}

/** The HMAC key of a `whsec_` secret. The spec asks for 24 to 64 random bytes. */
export function hmacKey(secret: string, field = 'secret'): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith('whsec_')) {
    throw new PolicyError(field, 'must be a whsec_ secret');
  }
  const key = decodeBase64(secret.slice(6), field);
  if (key.length < 24 || key.length > 64) throw new PolicyError(field, `decodes to ${key.length} bytes, not 24 to 64`);
  return key;
}

/** A `whsk_` signing key: raw 32-byte seed, 64-byte seed+public key (libsodium) or PKCS#8 DER. */
export function ed25519PrivateKey(secret: string, field = 'secret'): KeyObject {
  if (typeof secret !== 'string' || !secret.startsWith('whsk_')) throw new PolicyError(field, 'must be a whsk_ key');
  const bytes = decodeBase64(secret.slice(5), field);
  let der: Buffer;
  if (bytes.length === 32 || bytes.length === 64) der = Buffer.concat([PKCS8_ED25519_PREFIX, bytes.subarray(0, 32)]);
  else if (bytes.length === 48 && bytes.subarray(0, 16).equals(PKCS8_ED25519_PREFIX)) der = bytes;
  else throw new PolicyError(field, 'is not an Ed25519 seed or PKCS#8 key');
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** A `whpk_` verification key: base64 of the raw 32-byte Ed25519 public key. */
export function ed25519PublicKey(publicKey: string, field = 'publicKey'): KeyObject {
  if (typeof publicKey !== 'string' || !publicKey.startsWith('whpk_')) {
    throw new PolicyError(field, 'must be a whpk_ key');
  }
  const raw = decodeBase64(publicKey.slice(5), field);
  if (raw.length !== 32) throw new PolicyError(field, `decodes to ${raw.length} bytes, not 32`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Signs one message: `msgId`, whole unix seconds and the raw body, as `sign` does. */
export type Signer = (msgId: string, timestamp: number, body: string | Uint8Array) => string;

/**
 * A signer for a fixed list of secrets (`whsec_` HMAC, `whsk_` Ed25519), decoded and checked once,
 * as `createSignatureChecker` does for receivers: the platform signs every delivery, and decoding
 * a secret per message cost about as much as the HMAC itself.
 */
export function createSigner(secrets: readonly string[]): Signer {
  if (!Array.isArray(secrets) || secrets.length === 0) throw new PolicyError('secrets', 'must name at least one');
  const keys = secrets.map((secret, i) => {
    const field = `secrets[${i}]`;
    return typeof secret === 'string' && secret.startsWith('whsk_')
      ? { ed25519: ed25519PrivateKey(secret, field) }
      : { hmac: hmacKey(secret, field) };
  });
  return (msgId, timestamp, body) => {
    if (typeof msgId !== 'string' || msgId.length === 0 || /\s/.test(msgId)) {
      throw new PolicyError('msgId', 'must be a non-empty string without whitespace');
    }
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new PolicyError('timestamp', 'must be whole unix seconds');
    }
    const prefix = `${msgId}.${timestamp}.`;
    let out = '';
    for (const key of keys) {
      if (out.length > 0) out += ' ';
      if (key.hmac) {
        // Strings go in as UTF-8, the same bytes as the body on the wire.
        out += `v1,${createHmac('sha256', key.hmac).update(prefix).update(body).digest('base64')}`;
      } else {
        const content = Buffer.concat([Buffer.from(prefix, 'utf8'), toBytes(body)]);
        out += `v1a,${cryptoSign(null, content, key.ed25519).toString('base64')}`;
      }
    }
    return out;
  };
}

export function sign(input: {
  msgId: string;
  timestamp: number;
  body: string | Uint8Array;
  secrets: string[];
}): string {
  return createSigner(input.secrets)(input.msgId, input.timestamp, input.body);
}

export interface SignatureCheckOptions {
  secrets?: string[];
  publicKeys?: string[];
  toleranceSeconds?: number;
  /**
   * Accept a `webhook-id` holding a `.` (default false). The signed text `id.timestamp.body` can be
   * split again elsewhere when the id has dots: the signature over (`a.1700000000`, `2`, body) is
   * also one over (`a`, `1700000000`, `2.body`). The Standard Webhooks scheme allows such ids; the
   * platform's ids have no dots, so by default they are refused.
   */
  allowDotsInId?: boolean;
  /** Milliseconds since the epoch, like `Date.now` (the default). */
  now?: () => number;
}

export interface SignedMessage {
  msgId: string;
  timestamp: number;
}

/**
 * The first instant (ms since the epoch) at which `timestamp` is refused as too old. The check
 * compares whole seconds (`floor(now / 1000)`), so a timestamp stays accepted through its whole
 * last second: until `(timestamp + floor(tolerance) + 1) * 1000`, not `(timestamp + tolerance) * 1000`.
 * The timestamp check and the replay entry's lifetime both use this one bound, so a replay store
 * keeps a message exactly as long as the check would accept it again.
 */
export function acceptedUntilMs(timestamp: number, toleranceSeconds: number): number {
  return (timestamp + Math.floor(toleranceSeconds) + 1) * 1000;
}

/**
 * Validates the keys once and returns the check. Throws PolicyError (HW_POLICY_INVALID, naming the
 * field) for unusable options; the returned function throws only VerificationError.
 */
export function createSignatureChecker(
  options: SignatureCheckOptions,
  fieldPrefix = '',
): (headers: Headers, body: string | Uint8Array) => SignedMessage {
  const secrets = options.secrets ?? [];
  const publicKeys = options.publicKeys ?? [];
  if (!Array.isArray(secrets)) throw new PolicyError(`${fieldPrefix}secrets`, 'must be an array');
  if (!Array.isArray(publicKeys)) throw new PolicyError(`${fieldPrefix}publicKeys`, 'must be an array');
  if (secrets.length === 0 && publicKeys.length === 0) {
    throw new PolicyError(`${fieldPrefix}secrets`, 'at least one secret or public key is required');
  }
  const hmacKeys = secrets.map((s, i) => hmacKey(s, `${fieldPrefix}secrets[${i}]`));
  const edKeys = publicKeys.map((k, i) => ed25519PublicKey(k, `${fieldPrefix}publicKeys[${i}]`));
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance <= 0) {
    throw new PolicyError(`${fieldPrefix}toleranceSeconds`, 'must be a positive number of seconds');
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new PolicyError(`${fieldPrefix}now`, 'must be a function');
  const allowDots = options.allowDotsInId ?? false;
  if (typeof allowDots !== 'boolean') throw new PolicyError(`${fieldPrefix}allowDotsInId`, 'must be a boolean');

  return (headers, rawBody) => {
    const msgId = single(headers, 'webhook-id', 'svix-id');
    const timestampText = single(headers, 'webhook-timestamp', 'svix-timestamp');
    const signatureText = joined(headers, 'webhook-signature', 'svix-signature');
    if (!msgId || !timestampText || !signatureText) {
      throw new VerificationError('HW_SIGNATURE_MISSING');
    }
    if (!allowDots && msgId.includes('.')) {
      throw new VerificationError(
        'HW_SIGNATURE_INVALID',
        "webhook-id holds a '.', which lets the signed id.timestamp.body text be split another way (allowDotsInId accepts it)",
      );
    }
    // Canonical digits only, so the text that was signed is the number we check.
    if (!/^(0|[1-9]\d{0,11})$/.test(timestampText)) {
      throw new VerificationError('HW_SIGNATURE_INVALID', 'webhook-timestamp is not unix seconds');
    }
    const timestamp = Number(timestampText);
    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    if (!(nowMs < acceptedUntilMs(timestamp, tolerance)) || timestamp - nowSeconds > tolerance) {
      throw new VerificationError(
        'HW_TIMESTAMP_OUT_OF_RANGE',
        `webhook-timestamp is ${timestamp - nowSeconds} s from now; the tolerance is ${tolerance} s`,
      );
    }
    const entries = signatureEntries(signatureText);
    if (entries.length > MAX_SIGNATURES) {
      throw new VerificationError('HW_SIGNATURE_INVALID', `more than ${MAX_SIGNATURES} signatures`);
    }
    const body = toBytes(rawBody);
    const prefix = Buffer.from(`${msgId}.${timestampText}.`, 'utf8');
    let expectedMacs: Buffer[] | undefined;
    let content: Buffer | undefined;
    for (const entry of entries) {
      const comma = entry.indexOf(',');
      if (comma < 0) continue;
      const version = entry.slice(0, comma);
      const value = entry.slice(comma + 1);
      if (!BASE64.test(value)) continue;
      const given = Buffer.from(value, 'base64');
      if (version === 'v1' && hmacKeys.length > 0 && given.length === HMAC_BYTES) {
        expectedMacs ??= hmacKeys.map((k) => createHmac('sha256', k).update(prefix).update(body).digest());
        // Every key is compared, so timing does not tell which one (or whether any) matched.
        let match = false;
        for (const expected of expectedMacs) match = timingSafeEqual(expected, given) || match;
        if (match) return { msgId, timestamp };
      } else if (version === 'v1a' && edKeys.length > 0 && given.length === ED25519_SIGNATURE_BYTES) {
        content ??= Buffer.concat([prefix, body]);
        for (const key of edKeys) if (cryptoVerify(null, content, key, given)) return { msgId, timestamp };
      }
    }
    throw new VerificationError('HW_SIGNATURE_INVALID');
  };
}

/** One-shot verification; decodes the keys on every call (use createSignatureChecker in loops). */
export function verifySignature(
  input: SignatureCheckOptions & { headers: Headers; body: string | Uint8Array },
): SignedMessage {
  return createSignatureChecker(input)(input.headers, input.body);
}

function single(headers: Headers, name: string, alias: string): string | undefined {
  const value = headers[name] ?? headers[alias];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    // Two ids or timestamps: which one was signed is unknowable, so neither is trusted.
    if (value.length !== 1) throw new VerificationError('HW_SIGNATURE_INVALID', `${name} appears more than once`);
    return value[0];
  }
  return value;
}

/**
 * The `version,value` entries of a signature header: space-separated, and where several header
 * lines were joined with ", " (node:http, fetch's Headers) an entry ends with that comma. Base64
 * holds no comma, so commas at either end of an entry are separators, never part of a signature.
 */
function signatureEntries(text: string): string[] {
  const entries: string[] = [];
  for (const token of text.split(/\s+/)) {
    const entry = token.replace(/^,+|,+$/g, '');
    if (entry.length > 0) entries.push(entry);
  }
  return entries;
}

function joined(headers: Headers, name: string, alias: string): string | undefined {
  const value = headers[name] ?? headers[alias];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(' ') : value;
}
