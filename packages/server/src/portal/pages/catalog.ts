import type { FastifyInstance } from 'fastify';
import type { EventTypeRow } from '../../store/types.ts';
import { type Html, html } from '../html.ts';
import { type Portal, sendPage } from '../index.ts';
import { type AppParams, appOfRequest, callerOf, pager } from './common.ts';

const pretty = (v: unknown): string => JSON.stringify(v, null, 2);

function eventType(t: EventTypeRow): Html {
  const schema = (t.schemas as { '1'?: Record<string, unknown> } | null)?.['1'];
  const examples = (schema?.examples as unknown[] | undefined) ?? [];
  const { examples: _, ...shape } = schema ?? {};
  return html`<section class="card" aria-labelledby="type-${t.name}">
    <h2 id="type-${t.name}"><code>${t.name}</code>${t.deprecated ? html` <span class="badge warn">deprecated</span>` : ''}</h2>
    ${t.groupName ? html`<p class="muted">Group: ${t.groupName}</p>` : ''}
    <p>${t.description || html`<span class="muted">No description.</span>`}</p>
    ${schema ? html`<details><summary>Schema</summary><pre>${pretty(shape)}</pre></details>` : html`<p class="muted">No schema.</p>`}
    ${examples.map((e, i) => html`<details><summary>Example ${examples.length > 1 ? i + 1 : ''}</summary><pre>${pretty(e)}</pre></details>`)}
  </section>`;
}

/** The event types an application may receive, with their descriptions, schemas and examples. */
export function catalogPages(scope: FastifyInstance, portal: Portal): void {
  scope.get<{ Params: AppParams; Querystring: { iterator?: string } }>('/app/:app/event-types', async (req, reply) => {
    const app = await appOfRequest(portal, req);
    const page = await portal.services.eventTypes.list(callerOf(req), {
      limit: 50,
      iterator: req.query.iterator ?? null,
    });
    return sendPage(req, reply, {
      title: 'Event catalog',
      section: 'event-types',
      appId: app.id,
      body: html`${page.data.length === 0 ? html`<p>The catalog has no event types yet.</p>` : html`<div class="cards">${page.data.map(eventType)}</div>`}
        ${pager(`/portal/app/${app.id}/event-types`, new URLSearchParams(), page, !req.query.iterator)}`,
    });
  });
}
