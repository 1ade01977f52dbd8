// What every example reads from its environment. The defaults are the quickstart's file names and
// the certificate subject of a platform started with `hookwarden serve` (`npx hookwarden ca show`).
import { readFileSync } from 'node:fs';
import { verifiedHandler } from '@hookwarden/verify/node';

const env = process.env;
const read = (name, fallback) => readFileSync(env[name] ?? fallback, 'utf8');

export const port = Number(env.PORT ?? 8443);
export const host = env.HOST ?? '127.0.0.1';
export const subject = env.PLATFORM_SUBJECT ?? 'CN=Hookwarden webhooks,O=Hookwarden';

/** The receiver's server certificate and the platform's CA bundle, for `httpsServerOptions`. */
export const serverTls = () => ({
  certPem: read('RECEIVER_CERT', 'receiver-cert.pem'),
  keyPem: read('RECEIVER_KEY', 'receiver-key.pem'),
  clientCaPem: read('PLATFORM_CA', 'platform-ca.pem'),
  // The handshake lets every client finish, so that verify() answers a precise {code, detail}.
  rejectUnauthorized: false,
});

/** The endpoint's signing secret (whsec_…): WEBHOOK_SECRET, else the file the quickstart saves. */
const secret = () => env.WEBHOOK_SECRET ?? read('WEBHOOK_SECRET_FILE', 'webhook-secret').trim();

/** TLS ends in this process: the platform's certificate on the socket, its signature, no replays. */
export const socketPolicy = () => ({
  https: true,
  clientCertificate: { source: 'socket', caBundlePem: read('PLATFORM_CA', 'platform-ca.pem'), subject },
  signature: { secrets: [secret()] },
  replay: true,
});

/** nginx ends TLS and connects from `proxy` (its proxy_bind address): the facts come in its headers. */
export const nginxPolicy = (proxy) => ({
  trustedProxies: [proxy],
  https: true,
  clientCertificate: { source: 'nginx', subject },
  signature: { secrets: [secret()] },
  replay: true,
});

export const accepted = (facts) => console.log('verified', facts.webhookId, JSON.stringify(facts.payload));
export const listening = (url) => console.log(`listening on ${url}`);

/** A node:http(s) request handler: verified callbacks on /hooks answered 204, everything else refused. */
export const verifiedHooks = (verifier) =>
  verifiedHandler(
    verifier,
    (_req, res, { facts }) => {
      accepted(facts);
      res.writeHead(204).end();
    },
    { path: '/hooks' },
  );
