import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@hookwarden/testkit';

/**
 * Certificates for the loopback TLS tests, made by the real openssl CLI: a receiver CA and its
 * server certificate (localhost, receiver.test, 127.0.0.1), the platform's root → intermediate →
 * client leaf, and an unrelated CA a receiver may trust instead of ours.
 */
export interface TestPki {
  serverCa: string;
  server: { cert: string; key: string };
  platformRoot: string;
  client: { certPem: string; keyPem: string; chainPem: string };
  otherCa: string;
}

export function makeTestPki(): TestPki {
  const dir = tempDir('hw-delivery-pki-');
  try {
    const p = (name: string) => join(dir.path, name);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ca = (name: string, cn: string) =>
      openssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        p(`${name}.key`),
        '-out',
        p(`${name}.pem`),
        '-subj',
        `/CN=${cn}`,
        '-days',
        '2',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      );
    const issue = (name: string, cn: string, issuer: string, ext: string) => {
      writeFileSync(p(`${name}.ext`), ext);
      openssl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        p(`${name}.key`),
        '-out',
        p(`${name}.csr`),
        '-subj',
        `/CN=${cn}`,
      );
      openssl(
        'x509',
        '-req',
        '-in',
        p(`${name}.csr`),
        '-CA',
        p(`${issuer}.pem`),
        '-CAkey',
        p(`${issuer}.key`),
        '-CAcreateserial',
        '-out',
        p(`${name}.pem`),
        '-days',
        '2',
        '-extfile',
        p(`${name}.ext`),
      );
    };
    ca('serverca', 'Receiver Test CA');
    issue(
      'server',
      'localhost',
      'serverca',
      'subjectAltName=DNS:localhost,DNS:receiver.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    );
    ca('root', 'Platform Test Root');
    issue(
      'intermediate',
      'Platform Test Intermediate',
      'root',
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
    );
    issue(
      'client',
      'hookwarden-test-client',
      'intermediate',
      'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
    );
    ca('other', 'Someone Else CA');
    const read = (name: string) => readFileSync(p(name), 'utf8');
    return {
      serverCa: read('serverca.pem'),
      server: { cert: read('server.pem'), key: read('server.key') },
      platformRoot: read('root.pem'),
      client: {
        certPem: read('client.pem'),
        keyPem: read('client.key'),
        chainPem: read('client.pem') + read('intermediate.pem'),
      },
      otherCa: read('other.pem'),
    };
  } finally {
    dir.cleanup();
  }
}
