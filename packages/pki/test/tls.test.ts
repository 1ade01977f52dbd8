import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { listen } from '@hookwarden/testkit';
import { chainPem, createHierarchy, type Hierarchy, issueCertificate } from '../src/index.ts';

// A receiver that requires a client certificate from our root, checked by OpenSSL inside Node.
describe('real TLS handshake on loopback', () => {
  let h: Hierarchy;
  let other: Hierarchy;
  let server: Server;
  let port: number;
  // Same trust, but lets the handshake finish so the test can read OpenSSL's verdict and reason.
  let lenient: Server;
  let lenientPort: number;

  before(async () => {
    h = await createHierarchy({ subject: 'CN=callbacks.example.com,O=Example', dnsNames: ['callbacks.example.com'] });
    other = await createHierarchy({ subject: 'CN=intruder.example.net' });
    const serverCert = await issueCertificate(h.intermediate, { subject: 'CN=localhost', usage: 'server' });
    server = createServer(
      {
        key: serverCert.keyPem,
        cert: serverCert.certPem + h.intermediate.certPem,
        ca: h.root.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const cert = (req.socket as TLSSocket).getPeerCertificate();
        res.end(cert.subject?.CN ?? '');
      },
    );
    port = await listen(server);
    lenient = createServer(
      {
        key: serverCert.keyPem,
        cert: serverCert.certPem + h.intermediate.certPem,
        ca: h.root.certPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        res.end(`${socket.authorized} ${socket.authorizationError ?? ''}`);
      },
    );
    lenientPort = await listen(lenient);
  });
  after(async () => {
    await Promise.all([server, lenient].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  /** Connects, sends one request, and resolves with the response text or the error code. */
  async function attempt(identity?: { cert: string; key: string }, maxVersion?: 'TLSv1.2' | 'TLSv1.3', to = port) {
    const socket = connect({
      host: '127.0.0.1',
      port: to,
      servername: 'localhost',
      ca: h.root.certPem,
      ...(identity ?? {}),
      ...(maxVersion ? { maxVersion } : {}),
    });
    try {
      await once(socket, 'secureConnect');
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      await once(socket, 'end');
      const [head = '', body = ''] = data.split('\r\n\r\n');
      return { ok: head.startsWith('HTTP/1.1 200'), body, code: head.split('\r\n')[0] };
    } catch (err) {
      return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) };
    } finally {
      socket.destroy();
    }
  }

  test('accepts the leaf presented with its intermediate', async () => {
    const r = await attempt({ cert: chainPem(h), key: h.leaf.keyPem });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.body, 'callbacks.example.com');
  });

  test('rejects the leaf without its intermediate (root alone cannot reach it)', async () => {
    await assertRefused({ cert: h.leaf.certPem, key: h.leaf.keyPem }, 'TLSv1.3');
  });

  /** The client gets no HTTP answer, and the server reports why it refused the handshake. */
  async function assertRefused(identity: { cert: string; key: string } | undefined, version: 'TLSv1.2' | 'TLSv1.3') {
    const refused = once(server, 'tlsClientError');
    const r = await attempt(identity, version);
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.ok(!String(r.code ?? '').startsWith('HTTP/'), JSON.stringify(r));
    await refused;
  }

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`rejects a client of an unrelated CA (${version})`, async () => {
      await assertRefused({ cert: chainPem(other), key: other.leaf.keyPem }, version);
    });

    test(`rejects a client without a certificate (${version})`, async () => {
      await assertRefused(undefined, version);
    });
  }

  test('OpenSSL states why each identity is or is not trusted', async () => {
    const verdict = async (identity?: { cert: string; key: string }) =>
      (await attempt(identity, undefined, lenientPort)).body;
    const got = [
      await verdict({ cert: chainPem(h), key: h.leaf.keyPem }),
      await verdict({ cert: h.leaf.certPem, key: h.leaf.keyPem }),
      await verdict({ cert: chainPem(other), key: other.leaf.keyPem }),
      await verdict(),
    ];
    assert.deepEqual(got, [
      'true ',
      'false UNABLE_TO_VERIFY_LEAF_SIGNATURE', // the intermediate is missing
      'false UNABLE_TO_GET_ISSUER_CERT_LOCALLY', // another root
      'false UNABLE_TO_GET_ISSUER_CERT', // Node's verdict when no certificate was sent
    ]);
  });
});
