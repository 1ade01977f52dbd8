import type { VerifyPolicy } from '@hookwarden/verify';
import {
  generateProxyConfig,
  PROXY_CONFIG_KINDS,
  ProxyConfigError,
  type ProxyConfigKind,
  type ProxyConfigOptions,
} from '@hookwarden/verify/proxy-config';
import type { TrustDocument } from '../trust.ts';

/** What a receiver's configuration is made for: one endpoint, and the platform as it stands. */
export interface Receiver {
  /** The endpoint's host name (its URL's). */
  host: string;
  signing: 'hmac' | 'ed25519';
  publicUrl: string;
  trust: TrustDocument;
}

export interface Snippet {
  id: string;
  title: string;
  /** Where it goes, or how to run it. */
  hint: string;
  text: string;
}

/** Where the generated files expect what the receiver installs. */
export const PATHS = {
  caBundle: '/etc/hookwarden/ca-bundle.pem',
  cert: (host: string) => `/etc/ssl/hooks/${host}.pem`,
  // HAProxy reads the key from the certificate's file or `<cert>.key`: one name that suits all three.
  key: (host: string) => `/etc/ssl/hooks/${host}.pem.key`,
} as const;

const UPSTREAM = 'http://127.0.0.1:3000';
/** In the code snippets, the endpoint's secret comes from the environment, never from the page. */
const SECRET_ENV = 'HOOKWARDEN_WEBHOOK_SECRET';
const SECRET_MARK = '__HOOKWARDEN_SECRET__';

const trustUrl = (r: Receiver) => `${r.publicUrl}/api/v1/trust`;
const certificates = (t: TrustDocument) => [
  t.certificates.current,
  ...(t.certificates.next ? [t.certificates.next] : []),
];

/**
 * What each proxy checks beyond the chain: the subject, which survives rotations; Caddy cannot
 * compare DNs, so it pins the SHA-256 of the current and the next certificate instead.
 */
function identityCheck(kind: ProxyConfigKind, t: TrustDocument): Pick<ProxyConfigOptions, 'subjects' | 'fingerprints'> {
  if (kind === 'caddy') return { fingerprints: certificates(t).map((c) => c.fingerprints.sha256Hex) };
  return { subjects: [...new Set(certificates(t).map((c) => c.subject))] };
}

/**
 * The verify policy of a receiver, TLS ending in Node (`socket`) or at the nginx configuration
 * below (`nginx`). The trust document keeps the CA bundle, the pins and the egress addresses
 * current; `secret` stands where the endpoint's signing secret goes.
 */
export function receiverPolicy(r: Receiver, source: 'socket' | 'nginx', secret: string): VerifyPolicy {
  return {
    ...(source === 'nginx' ? { trustedProxies: ['127.0.0.1'], https: true } : {}),
    trustDocument: { url: trustUrl(r) },
    clientCertificate: { source },
    ...(r.trust.egressCidrs.length > 0 ? { ipAllowlist: [] } : {}),
    signature: r.signing === 'hmac' ? { secrets: [secret] } : {},
    replay: true,
  };
}

/** The policy as TypeScript source, the secret read from the environment. */
function policySource(r: Receiver, source: 'socket' | 'nginx'): string {
  return JSON.stringify(receiverPolicy(r, source, SECRET_MARK), null, 2)
    .replace(`"${SECRET_MARK}"`, `process.env.${SECRET_ENV}!`)
    .replace(/"([A-Za-z]+)":/g, '$1:')
    .replace(/"/g, "'");
}

/** nginx, HAProxy and Caddy, from the project's own generator, checking the subject in the proxy. */
function proxies(r: Receiver): Snippet[] {
  return PROXY_CONFIG_KINDS.map((kind) => {
    let text: string;
    try {
      text = generateProxyConfig(kind, {
        serverName: r.host,
        listen: 443,
        upstream: UPSTREAM,
        caBundlePath: PATHS.caBundle,
        serverCertPath: PATHS.cert(r.host),
        serverKeyPath: PATHS.key(r.host),
        mode: 'check',
        ...identityCheck(kind, r.trust),
      });
    } catch (err) {
      if (!(err instanceof ProxyConfigError)) throw err;
      text = `# Not generated for ${r.host}: ${err.message}`;
    }
    const names = { nginx: 'nginx', haproxy: 'HAProxy', caddy: 'Caddy' } as const;
    return {
      id: kind,
      title: names[kind],
      hint: `TLS ends in ${names[kind]}, which requires the platform's client certificate and checks its ${
        kind === 'caddy'
          ? 'fingerprint (the current and the next certificate: take it again after a rotation)'
          : 'subject'
      }, then passes the callback to your app on ${UPSTREAM}. \`hookwarden proxy-config ${kind} --help\` makes others.`,
      text,
    };
  });
}

function gate(r: Receiver): Snippet {
  const lines = [
    'hookwarden gate --listen 0.0.0.0:443 --upstream http://127.0.0.1:3000 \\',
    `  --tls-cert ${PATHS.cert(r.host)} --tls-key ${PATHS.key(r.host)} \\`,
    `  --client-ca ${PATHS.caBundle} \\`,
    `  --trust-document ${trustUrl(r)}${r.signing === 'hmac' ? ' \\' : ''}`,
    ...(r.signing === 'hmac' ? [`  --secret "$${SECRET_ENV}"`] : []),
  ];
  return {
    id: 'gate',
    title: 'hookwarden gate',
    hint: 'A verifying sidecar in front of an app in any language: only verified callbacks reach it, with the facts in a Hookwarden-Verified header. With a --config file (mode 0600) the secret stays off the command line.',
    text: `${lines.join('\n')}\n`,
  };
}

function code(r: Receiver): Snippet[] {
  const proxied = policySource(r, 'nginx');
  const behind = '// Behind the nginx configuration above, which checks the client certificate and says so in headers.';
  return [
    {
      id: 'express',
      title: 'Express',
      hint: 'Mount the verifier before any body parser: the signature covers the raw body.',
      text: `import express from 'express';
import { createVerifier } from '@hookwarden/verify';
import { expressVerifier } from '@hookwarden/verify/express';

${behind}
const verifier = createVerifier(${proxied});

const app = express();
app.post('/hook', expressVerifier(verifier), (req, res) => {
  const facts = res.locals.hookwarden; // req.body is the raw Buffer
  res.sendStatus(204);
});
app.listen(3000, '127.0.0.1');
`,
    },
    {
      id: 'fastify',
      title: 'Fastify',
      hint: 'Bodies of the verifier’s scope stay raw Buffers: add no content-type parser to it.',
      text: `import Fastify from 'fastify';
import { createVerifier } from '@hookwarden/verify';
import { fastifyVerifier } from '@hookwarden/verify/fastify';

${behind}
const verifier = createVerifier(${proxied});

const app = Fastify();
app.register(async (scope) => {
  await scope.register(fastifyVerifier(verifier));
  scope.post('/hook', async (request, reply) => {
    const facts = request.hookwarden;
    return reply.code(204).send();
  });
});
await app.listen({ port: 3000, host: '127.0.0.1' });
`,
    },
    {
      id: 'hono',
      title: 'Hono',
      hint: 'Before any middleware that reads the body as text, JSON or a form.',
      text: `import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createVerifier } from '@hookwarden/verify';
import { honoVerifier } from '@hookwarden/verify/hono';

${behind}
const verifier = createVerifier(${proxied});

const app = new Hono();
app.post('/hook', honoVerifier(verifier), async (c) => {
  const facts = c.get('hookwarden');
  const event = await c.req.json();
  return c.body(null, 204);
});
serve({ fetch: app.fetch, port: 3000, hostname: '127.0.0.1' });
`,
    },
    {
      id: 'node',
      title: 'node:http',
      hint: 'TLS ends in your Node process: no proxy in between.',
      text: `import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createVerifier } from '@hookwarden/verify';
import { httpsServerOptions, verifiedHandler } from '@hookwarden/verify/node';

const verifier = createVerifier(${policySource(r, 'socket')});
await verifier.trustDocument?.refresh();

const server = createServer(
  httpsServerOptions({
    certPem: readFileSync('${PATHS.cert(r.host)}', 'utf8'),
    keyPem: readFileSync('${PATHS.key(r.host)}', 'utf8'),
    clientCaPem: readFileSync('${PATHS.caBundle}', 'utf8'),
    rejectUnauthorized: false, // verify() answers HW_CERT_MISSING / HW_CERT_UNTRUSTED precisely
  }),
  verifiedHandler(verifier, (req, res, { facts, body }) => {
    const event = JSON.parse(body.toString('utf8'));
    res.writeHead(204).end();
  }),
);
server.listen(443);
`,
    },
  ];
}

/** Every receiver configuration the Security page offers for one endpoint. */
export function receiverSnippets(r: Receiver): Snippet[] {
  return [...proxies(r), gate(r), ...code(r)];
}
