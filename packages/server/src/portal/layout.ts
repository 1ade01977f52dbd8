import type { FastifyRequest } from 'fastify';
import { can } from '../services/actor.ts';
import { assetHref } from './assets.ts';
import { type Html, html } from './html.ts';

export type Section = 'endpoints' | 'deliveries' | 'security' | 'event-types' | 'console' | 'applications' | 'none';

export interface Page {
  title: string;
  body: Html;
  /** Which part of the navigation is this page's. */
  section?: Section;
  /** The application whose pages the navigation leads to. */
  appId?: string;
}

const APP_SECTIONS: [Exclude<Section, 'console' | 'applications' | 'none'>, string, string][] = [
  ['endpoints', 'Endpoints', 'endpoints'],
  ['deliveries', 'Deliveries', 'deliveries'],
  ['security', 'Security', 'security'],
  ['event-types', 'Event catalog', 'event-types'],
];

function navigation(req: FastifyRequest, page: Page): Html {
  const actor = req.portal.session?.actor;
  if (!actor) return html``;
  const current = (s: Section) => (s === page.section ? html` aria-current="page"` : html``);
  const operator = actor.kind === 'admin';
  const appId = page.appId ?? (actor.kind === 'app' ? actor.appId : undefined);
  const items: Html[] = [];
  if (operator) {
    items.push(html`<li><a href="/portal/operator"${current('console')}>Console</a></li>`);
    items.push(html`<li><a href="/portal/operator/applications"${current('applications')}>Applications</a></li>`);
  }
  if (appId !== undefined && can(actor, 'endpoint.read')) {
    for (const [section, label, path] of APP_SECTIONS) {
      items.push(html`<li><a href="/portal/app/${appId}/${path}"${current(section)}>${label}</a></li>`);
    }
  }
  return html`<nav aria-label="Portal"><ul>${items}</ul></nav>
    <form method="post" action="/portal/logout">
      <input type="hidden" name="_csrf" value="${req.portal.csrf ?? ''}">
      <button type="submit" class="secondary">Sign out</button>
    </form>`;
}

/** A whole page: the shared head, the header with navigation and sign-out, the page's main content. */
export function layout(req: FastifyRequest, page: Page): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="same-origin">
<title>${page.title} · Hookwarden</title>
<link rel="stylesheet" href="${assetHref('portal.css')}">
<script src="${assetHref('portal.js')}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="site">
  <a class="brand" href="/portal/">Hookwarden</a>
  ${navigation(req, page)}
</header>
<main id="main" tabindex="-1">
<h1>${page.title}</h1>
${page.body}
</main>
</body>
</html>
`.value;
}
