import type { RouteOptions } from 'fastify';

interface Collected {
  method: string;
  url: string;
  schema?: Record<string, unknown>;
  /** What the caller must be allowed (services/actor.ts); absent on the routes that need no token. */
  action?: string;
  public: boolean;
}

/**
 * Builds the OpenAPI 3.1 document from the routes' own JSON Schemas, so the document cannot drift
 * from what the server validates. Extensions carry `x-hookwarden: true`.
 */
export function openApiCollector() {
  const routes: Collected[] = [];
  return {
    onRoute(route: RouteOptions) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD') continue;
        routes.push({
          method: method.toLowerCase(),
          url: route.url,
          schema: route.schema as Record<string, unknown>,
          action: route.config?.action,
          public: route.config?.public === true,
        });
      }
    },
    document(): Record<string, unknown> {
      const paths: Record<string, Record<string, unknown>> = {};
      for (const r of routes) {
        if (!r.url.startsWith('/api/')) continue;
        const path = r.url.replace(/:([a-z_]+)/g, '{$1}');
        const op: Record<string, unknown> = { responses: { default: { description: 'see the Svix API v1' } } };
        const parameters: unknown[] = [];
        for (const [where, key] of [
          ['path', 'params'],
          ['query', 'querystring'],
        ] as const) {
          const s = r.schema?.[key] as { properties?: Record<string, unknown>; required?: string[] } | undefined;
          for (const [name, schema] of Object.entries(s?.properties ?? {})) {
            parameters.push({
              name,
              in: where,
              required: where === 'path' || (s?.required ?? []).includes(name),
              schema,
            });
          }
        }
        if (parameters.length) op.parameters = parameters;
        // Who may call it: the action of the platform's permission table (docs/api.md), or no token.
        if (r.action) op['x-hookwarden-action'] = r.action;
        if (r.public) op.security = [];
        if (r.schema?.body) op.requestBody = { content: { 'application/json': { schema: r.schema.body } } };
        if (path === '/api/v1/trust') {
          op.description =
            'Trust document (no auth): CA bundle, current and next client certificates, egress CIDRs, Ed25519 signing keys, cipher policy. ETag / If-None-Match.';
          op['x-hookwarden'] = true;
        }
        if (path === '/api/v1/trust/ca-bundle.pem') op['x-hookwarden'] = true;
        paths[path] = { ...(paths[path] ?? {}), [r.method]: op };
      }
      return {
        openapi: '3.1.0',
        info: {
          title: 'Hookwarden API',
          version: '1',
          description:
            'Wire-compatible with the Svix API v1. Extensions (x-hookwarden): per-endpoint serverCa, clientIdentity, signatureScheme (v1a = Ed25519), allowHttp; attempt failureKind, failureDetail, tls; the trust document.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
        paths,
      };
    },
  };
}
