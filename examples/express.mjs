// Express over HTTPS: expressVerifier before any body parser (it needs the raw bytes).
import { createServer } from 'node:https';
import { createVerifier } from '@hookwarden/verify';
import { expressVerifier } from '@hookwarden/verify/express';
import { httpsServerOptions } from '@hookwarden/verify/node';
import express from 'express';
import { accepted, host, listening, port, serverTls, socketPolicy } from './settings.mjs';

const verifier = createVerifier(socketPolicy());
const app = express();
app.post('/hooks', expressVerifier(verifier), (_req, res) => {
  accepted(res.locals.hookwarden);
  res.sendStatus(204); // answer, or the platform times out and retries
});
createServer(httpsServerOptions(serverTls()), app).listen(port, host, () =>
  listening(`https://localhost:${port}/hooks`),
);
