// Plain HTTP behind the nginx that `hookwarden proxy-config nginx` generates: nginx checks the
// platform's certificate and states it in headers; they are believed only from nginx's
// proxy_bind address (PROXY_ADDRESS, the --source-address given to proxy-config).
import { createServer } from 'node:http';
import { createVerifier } from '@hookwarden/verify';
import { host, listening, nginxPolicy, port, verifiedHooks } from '../settings.mjs';

const verifier = createVerifier(nginxPolicy(process.env.PROXY_ADDRESS ?? '127.0.0.2'));
createServer(verifiedHooks(verifier)).listen(port, host, () => listening(`http://${host}:${port}/hooks`));
