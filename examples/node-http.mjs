// node:https alone: the handshake asks for the platform's certificate, verifiedHandler checks it
// and the signature, and answers refusals with {code, detail}.
import { createServer } from 'node:https';
import { createVerifier } from '@hookwarden/verify';
import { httpsServerOptions, verifiedHandler } from '@hookwarden/verify/node';
import { accepted, host, listening, port, serverTls, socketPolicy } from './settings.mjs';

const verifier = createVerifier(socketPolicy());
const handler = verifiedHandler(
  verifier,
  (_req, res, { facts }) => {
    accepted(facts);
    res.writeHead(204).end();
  },
  { path: '/hooks' },
);
createServer(httpsServerOptions(serverTls()), handler).listen(port, host, () =>
  listening(`https://localhost:${port}/hooks`),
);
