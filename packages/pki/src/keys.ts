import { createPrivateKey, type KeyObject, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

import { PKI_CODES, PkiError } from './errors.ts';
import { x509 } from './x509.ts';

export const KEY_TYPES = ['ec-p256', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

type Params = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;

function genParams(keyType: KeyType): Params {
  if (keyType === 'ec-p256') return { name: 'ECDSA', namedCurve: 'P-256' };
  return {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: Number(keyType.slice(4)),
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  };
}

/** A fresh extractable key pair of the given type. */
export async function generateKeyPair(keyType: KeyType): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(genParams(keyType), true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Parses a private key PEM (PKCS#8, or the older PKCS#1 / SEC1 forms). Throws HW_PKI_KEY_INVALID. */
export function readPrivateKey(keyPem: string, what = 'private key'): KeyObject {
  try {
    const key = createPrivateKey({ key: keyPem, format: 'pem' });
    if (key.type !== 'private') throw new Error('not a private key');
    return key;
  } catch (cause) {
    // The message never echoes the input: it may be a key.
    throw new PkiError(
      PKI_CODES.KEY_INVALID,
      `the ${what} is not a readable unencrypted PEM private key (PKCS#8 "BEGIN PRIVATE KEY", or RSA / EC PEM); decrypt it first if it has a passphrase`,
      { cause },
    );
  }
}

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const CURVE_HASH: Record<string, string> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' };

/** The WebCrypto signing key and signature algorithm for a private key (the issuer's). */
export async function signingKey(keyPem: string): Promise<{ key: CryptoKey; algorithm: Algorithm | EcdsaParams }> {
  const keyObject = readPrivateKey(keyPem, 'issuer private key');
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const type = keyObject.asymmetricKeyType;
  if (type === 'ec') {
    const curve = CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (curve) {
      const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
      return { key, algorithm: { name: 'ECDSA', hash: CURVE_HASH[curve]! } as EcdsaParams };
    }
  }
  if (type === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  throw new PkiError(
    PKI_CODES.KEY_UNSUPPORTED,
    `issuer keys must be ECDSA (P-256/384/521) or RSA, not ${type ?? 'unknown'}`,
  );
}

/** 'ec-p256', 'rsa-3072', ... for a public or private key; other kinds by their Node name. */
export function describeKeyType(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    return curve ? `ec-${curve.toLowerCase().replace('-', '')}` : `ec-${details.namedCurve ?? 'unknown'}`;
  }
  if (type === 'rsa' || type === 'rsa-pss') return `${type}-${details.modulusLength ?? 0}`;
  return type ?? 'unknown';
}
