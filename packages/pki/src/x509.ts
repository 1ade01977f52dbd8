// @peculiar/x509 registers its parts through tsyringe, which needs the Reflect metadata API loaded
// first; every module of this package imports the library through this file to keep that order.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// One WebCrypto provider for the whole library: Node's own, so no native or JS crypto is added.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
