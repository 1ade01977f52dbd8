// Hono on @hono/node-server over HTTPS: honoVerifier before anything that reads the body.
import { createServer } from 'node:https';
import { serve } from '@hono/node-server';
import { createVerifier } from '@hookwarden/verify';
import { honoVerifier } from '@hookwarden/verify/hono';
import { httpsServerOptions } from '@hookwarden/verify/node';
import { Hono } from 'hono';
import { accepted, host, listening, port, serverTls, socketPolicy } from './settings.mjs';

const verifier = createVerifier(socketPolicy());
const app = new Hono();
app.post('/hooks', honoVerifier(verifier), (c) => {
  accepted(c.get('hookwarden'));
  return c.body(null, 204);
});
serve({ fetch: app.fetch, createServer, serverOptions: httpsServerOptions(serverTls()), port, hostname: host }, () =>
  listening(`https://localhost:${port}/hooks`),
);
