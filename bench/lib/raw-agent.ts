import { createSecureContext } from 'node:tls';
import { type ClientIdentity, DEFAULT_CIPHER_POLICY, nodeCipherString } from '@hookwarden/server/delivery';
import { Agent } from 'undici';

/**
 * The practical limit the delivery benchmarks compare against: a bare undici Agent with the same TLS
 * setup as the dispatcher (our client chain, the receiver's CA, the default cipher policy).
 */
export function rawAgent(identity: ClientIdentity, serverCaPem: string, connections: number): Agent {
  return new Agent({
    connections,
    connect: {
      secureContext: createSecureContext({
        cert: identity.chainPem,
        key: identity.keyPem,
        ca: serverCaPem,
        minVersion: DEFAULT_CIPHER_POLICY.minVersion,
        maxVersion: DEFAULT_CIPHER_POLICY.maxVersion,
        ciphers: nodeCipherString(DEFAULT_CIPHER_POLICY),
      }),
      servername: 'localhost',
    },
  });
}
