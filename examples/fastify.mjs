// Fastify over HTTPS: the plugin is a scope of its own whose routes keep their bodies raw.
import { createVerifier } from '@hookwarden/verify';
import { fastifyVerifier } from '@hookwarden/verify/fastify';
import { httpsServerOptions } from '@hookwarden/verify/node';
import Fastify from 'fastify';
import { accepted, host, listening, port, serverTls, socketPolicy } from './settings.mjs';

const verifier = createVerifier(socketPolicy());
const app = Fastify({ https: httpsServerOptions(serverTls()) });
await app.register(
  fastifyVerifier(verifier, (scope, verified) => {
    scope.post('/hooks', async (request, reply) => {
      accepted(verified(request));
      return reply.code(204).send();
    });
  }),
);
await app.listen({ port, host });
listening(`https://localhost:${port}/hooks`);
