// @peculiar/x509 registers its parts through tsyringe, which needs the Reflect metadata API loaded
// first; every module of this package imports the library through this file to keep that order.
import 'reflect-metadata';
import { type X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { PKI_CODES, PkiError } from './errors.ts';

// One WebCrypto provider for the whole library: Node's own, so no native or JS crypto is added.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/**
 * The library's view of a certificate Node has already parsed, with every extension decoded now: a
 * malformed extension would otherwise throw the library's TypeError at first use, and leave an empty
 * extension list behind for the next caller. Here it is a PkiError, once, for every caller.
 */
export function decodeExtensions(node: NodeX509Certificate, what = 'certificate'): x509.X509Certificate {
  try {
    const cert = new x509.X509Certificate(node.raw);
    void cert.extensions;
    return cert;
  } catch (cause) {
    throw new PkiError(PKI_CODES.PEM_INVALID, `the ${what} has an extension that cannot be decoded`, { cause });
  }
}
