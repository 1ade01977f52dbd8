import type { CheckReport, ServerSoftware } from './types.ts';

/**
 * What the server's answers say of its software: a `Server` or `X-Powered-By` header, or an error
 * page only one server writes. A guess that picks the advice (nginx directives for nginx), never a
 * finding; an answer that says nothing leaves the advice generic.
 */
const SIGNS: { software: ServerSoftware; pattern: RegExp }[] = [
  { software: 'nginx', pattern: /^server:[ \t]*nginx\b[^\r\n]*/im },
  { software: 'nginx', pattern: /<center>nginx(\/[\d.]+)?<\/center>/i },
  { software: 'caddy', pattern: /^server:[ \t]*caddy\b[^\r\n]*/im },
  { software: 'haproxy', pattern: /^server:[ \t]*haproxy\b[^\r\n]*/im },
  // HAProxy's own error pages, which it sends without a Server header.
  { software: 'haproxy', pattern: /No server is available to handle this request\./ },
  { software: 'node', pattern: /^x-powered-by:[ \t]*(express|fastify|hono|koa|next\.js)\b[^\r\n]*/im },
];

export function recognizeServer(responses: (string | undefined)[]): CheckReport['server'] {
  for (const text of responses) {
    if (!text) continue;
    for (const { software, pattern } of SIGNS) {
      const m = pattern.exec(text);
      // The evidence is the server's own text: kept short and to one line for the report.
      if (m) return { software, evidence: m[0].replace(/[^\x20-\x7e]/g, '').slice(0, 80) };
    }
  }
  return undefined;
}
