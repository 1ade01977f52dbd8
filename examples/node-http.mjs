// node:https alone: the handshake asks for the platform's certificate, verifiedHandler checks it
// and the signature, and answers refusals with {code, detail}.
import { createServer } from 'node:https';
import { createVerifier } from '@hookwarden/verify';
import { httpsServerOptions } from '@hookwarden/verify/node';
import { host, listening, port, serverTls, socketPolicy, verifiedHooks } from './settings.mjs';

const verifier = createVerifier(socketPolicy());
createServer(httpsServerOptions(serverTls()), verifiedHooks(verifier)).listen(port, host, () =>
  listening(`https://localhost:${port}/hooks`),
);
