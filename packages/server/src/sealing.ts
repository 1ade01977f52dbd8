import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { ServerError } from './errors.ts';

/**
 * Secrets kept in a shared database (the platform's private keys, its admin token) are sealed with
 * a master key that every node is given and the database never sees: AES-256-GCM under a key
 * derived from it, with the secret's name as associated data, so a sealed value moved to another
 * name does not open. The envelope names the key it was sealed with, so a node given another
 * master key says so instead of failing to decrypt.
 *
 *   hwsealed.v1.<key id>.<nonce>.<ciphertext and tag>     (base64url parts)
 */

const PREFIX = 'hwsealed.v1.';
const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealer {
  /** Identifies the master key (not secret: a digest of the derived key), for messages. */
  readonly keyId: string;
  seal(name: string, plaintext: string): string;
  /** The plaintext; throws HW_MASTER_KEY_MISMATCH or HW_SEALED_INVALID. */
  open(name: string, sealed: string): string;
}

/** A master key as given (file or environment): 32 bytes in base64 or base64url, whitespace around it ignored. */
export function parseMasterKey(text: string, from: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== MASTER_KEY_BYTES) {
    throw new ServerError(
      'HW_MASTER_KEY_INVALID',
      `${from} is not a master key: give ${MASTER_KEY_BYTES} random bytes in base64 (for example: openssl rand -base64 32)`,
      { status: 500 },
    );
  }
  return key;
}

export function createSealer(masterKey: Buffer): Sealer {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== MASTER_KEY_BYTES) {
    throw new ServerError('HW_MASTER_KEY_INVALID', `the master key must be ${MASTER_KEY_BYTES} bytes`, { status: 500 });
  }
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'hookwarden sealed secrets v1', 32));
  const keyId = createHash('sha256').update(key).digest('base64url').slice(0, 11);
  return {
    keyId,
    seal(name, plaintext) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(name, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${keyId}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(name, sealed) {
      const invalid = () =>
        new ServerError('HW_SEALED_INVALID', `the stored secret ${name} is damaged or was not sealed here`, {
          status: 500,
        });
      if (typeof sealed !== 'string' || !sealed.startsWith(PREFIX)) throw invalid();
      const [id, nonceText, bodyText, ...rest] = sealed.slice(PREFIX.length).split('.');
      if (rest.length > 0 || !id || nonceText === undefined || bodyText === undefined) throw invalid();
      if (id !== keyId) {
        throw new ServerError(
          'HW_MASTER_KEY_MISMATCH',
          `the stored secret ${name} was sealed with master key ${id}, and this node was given ${keyId}: give every node the same master key`,
          { status: 500 },
        );
      }
      const nonce = Buffer.from(nonceText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw invalid();
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(name, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        throw invalid();
      }
    },
  };
}
