import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { can } from '../../services/actor.ts';
import type { MessageDeliveries } from '../../services/attempts.ts';
import type { ApplicationRow, AttemptRow, EndpointRow, MessageDestination, StatusCode } from '../../store/types.ts';
import { type Form, text } from '../forms.ts';
import { fieldId, type Html, html, raw } from '../html.ts';
import { type Portal, sendPage } from '../index.ts';
import {
  type AppParams,
  appOfRequest,
  callerOf,
  fromLocalInput,
  pager,
  postButton,
  statusBadge,
  when,
} from './common.ts';

type Query = {
  endpoint?: string;
  event_type?: string;
  channel?: string;
  after?: string;
  before?: string;
  status?: string;
  iterator?: string;
  part?: string;
};
type MsgParams = AppParams & { msg: string };

/** Messages per page. */
const PAGE = 20;
/** Characters of a receiver's answer shown. */
const EXCERPT = 500;
const STATUSES: [string, StatusCode, string][] = [
  ['delivered', 0, 'Delivered'],
  ['pending', 1, 'Waiting'],
  ['failed', 2, 'Failed'],
  ['sending', 3, 'Being sent'],
];

/** An attempt's facts: HTTP status, duration, TLS, and why it failed. */
function attemptFacts(a: AttemptRow): Html {
  const tls = a.tls
    ? html` · ${a.tls.protocol} ${a.tls.cipher} · client certificate ${a.tls.clientCertificateSent ? 'sent' : html`<strong>not sent</strong>`}`
    : html` · no TLS`;
  const failure = a.failureKind
    ? html`<br><span class="error">${a.failureKind}</span>${a.failureMessage ? html`: ${a.failureMessage}` : ''}`
    : '';
  return html`${a.statusCode ? `HTTP ${a.statusCode}` : 'no answer'} in ${a.durationMs} ms${tls}${failure}`;
}

function response(a: AttemptRow): Html {
  if (!a.response || a.response === '{}') return html``;
  const excerpt = a.response.length > EXCERPT ? `${a.response.slice(0, EXCERPT)}…` : a.response;
  return html`<details><summary>Answer</summary><pre class="wrap">${excerpt}</pre></details>`;
}

function destination(
  app: ApplicationRow,
  d: MessageDestination,
  attempts: readonly AttemptRow[],
  extra: Html | '' = '',
): Html {
  const mine = attempts.filter((a) => a.endpointId === d.endpoint.id);
  const last = mine[0];
  return html`<li>${statusBadge(d.status)} <a class="wrap" href="/portal/app/${app.id}/endpoints/${d.endpoint.id}">${d.endpoint.url}</a>
    ${last ? html`<br>${when(last.createdAt)}: ${attemptFacts(last)}${response(last)}` : html`<br><span class="muted">no attempt yet</span>`}
    ${mine.length > 1 ? html`<br><span class="muted">${mine.length} attempts</span>` : ''}
    ${d.nextAttemptAt !== null && d.status === 1 ? html`<br><span class="muted">next attempt ${when(d.nextAttemptAt)}</span>` : ''}${extra}</li>`;
}

function rows(app: ApplicationRow, messages: readonly MessageDeliveries[]): Html {
  if (messages.length === 0) return html`<tr><td colspan="2">No messages match.</td></tr>`;
  return html`${messages.map(
    (m) => html`<tr>
      <td data-label="Message">${when(m.message.createdAt)}<br>
        <a href="/portal/app/${app.id}/deliveries/${m.message.id}">${m.message.eventType}</a><br><code class="wrap">${m.message.id}</code></td>
      <td data-label="Deliveries">${
        m.destinations.length === 0
          ? html`<span class="muted">sent to no endpoint</span>`
          : html`<ul>${m.destinations.map((d) => destination(app, d, m.attempts))}</ul>`
      }</td>
    </tr>`,
  )}`;
}

/** Messages and their attempts, with filters; the first page updates while it is open. */
export function deliveryPages(scope: FastifyInstance, portal: Portal): void {
  const { services } = portal;

  async function list(req: FastifyRequest<{ Params: AppParams; Querystring: Query }>, app: ApplicationRow) {
    const q = req.query;
    const status = STATUSES.find(([name]) => name === q.status)?.[1];
    const after = q.after ? fromLocalInput(q.after) : undefined;
    const before = q.before ? fromLocalInput(q.before) : undefined;
    return services.attempts.overview(callerOf(req), app, {
      limit: PAGE,
      iterator: q.iterator ?? null,
      ...(q.event_type ? { eventTypes: [q.event_type] } : {}),
      ...(q.channel ? { channel: q.channel } : {}),
      ...(after !== undefined ? { after } : {}),
      ...(before !== undefined ? { before } : {}),
      ...(q.endpoint ? { endpoint: q.endpoint } : {}),
      ...(q.endpoint && status !== undefined ? { status } : {}),
    });
  }

  scope.get<{ Params: AppParams; Querystring: Query }>('/app/:app/deliveries', async (req, reply) => {
    const app = await appOfRequest(portal, req);
    const { page, messages } = await list(req, app);
    const body = rows(app, messages).value;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    if (req.query.part === 'rows') {
      reply.header('etag', etag);
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('text/html; charset=utf-8').send(body);
    }
    return sendPage(req, reply, {
      title: 'Deliveries',
      section: 'deliveries',
      appId: app.id,
      body: html`${await filters(req, app)}
        <p id="live-status" class="muted" role="status" aria-live="polite"></p>
        <div class="scroll"><table class="responsive"><caption class="visually-hidden">Messages and their deliveries</caption>
          <thead><tr><th scope="col">Message</th><th scope="col">Deliveries</th></tr></thead>
          <tbody id="deliveries"${liveAttributes(req, etag)}>${raw(body)}</tbody>
        </table></div>
        ${pager(`/portal/app/${app.id}/deliveries`, queryOf(req.query), page, !req.query.iterator)}`,
    });
  });

  /** The first page asks for its rows again while it is open (later pages are history). */
  function liveAttributes(req: FastifyRequest<{ Querystring: Query }>, etag: string): Html {
    if (req.query.iterator) return html``;
    const q = queryOf(req.query);
    q.set('part', 'rows');
    return html` data-live="${req.url.split('?')[0]}?${q.toString()}" data-every="${portal.livePollMs}" data-etag="${etag}"`;
  }

  async function filters(req: FastifyRequest<{ Querystring: Query }>, app: ApplicationRow): Promise<Html> {
    const c = callerOf(req);
    const q = req.query;
    const [endpoints, types] = await Promise.all([
      services.endpoints.list(c, app, { limit: 250 }),
      services.eventTypes.list(c, { limit: 250 }),
    ]);
    const select = (
      name: string,
      label: string,
      options: [string, string][],
      selected?: string,
    ) => html`<div class="field">
      <label for="${fieldId(name)}">${label}</label>
      <select id="${fieldId(name)}" name="${name}"><option value="">All</option>${options.map(
        ([v, l]) => html`<option value="${v}"${v === selected ? html` selected` : ''}>${l}</option>`,
      )}</select></div>`;
    const input = (name: string, label: string, type: string) => html`<div class="field">
      <label for="${fieldId(name)}">${label}</label><input type="${type}" id="${fieldId(name)}" name="${name}" value="${(q as Record<string, string | undefined>)[name] ?? ''}"></div>`;
    return html`<form class="filters" method="get" action="/portal/app/${app.id}/deliveries" role="search" aria-label="Filter the deliveries">
      ${select(
        'endpoint',
        'Endpoint',
        endpoints.data.map((e: EndpointRow) => [e.id, e.url]),
        q.endpoint,
      )}
      ${select(
        'status',
        'Status (of one endpoint)',
        STATUSES.map(([v, , l]) => [v, l]),
        q.status,
      )}
      ${select(
        'event_type',
        'Event type',
        types.data.map((t) => [t.name, t.name]),
        q.event_type,
      )}
      ${input('channel', 'Channel', 'text')}
      ${input('after', 'After (UTC)', 'datetime-local')}
      ${input('before', 'Before (UTC)', 'datetime-local')}
      <div><button type="submit">Filter</button> <a href="/portal/app/${app.id}/deliveries">Clear</a></div>
    </form>`;
  }

  scope.get<{ Params: MsgParams; Querystring: { iterator?: string } }>(
    '/app/:app/deliveries/:msg',
    async (req, reply) => {
      const app = await appOfRequest(portal, req);
      const c = callerOf(req);
      const message = await services.messages.get(c, app, req.params.msg);
      const [destinations, attempts] = await Promise.all([
        services.attempts.destinations(c, app, message.id, { limit: 250 }),
        services.attempts.byMessage(c, app, message.id, { limit: 100, iterator: req.query.iterator ?? null }),
      ]);
      return sendPage(req, reply, messagePage(req, app, message, destinations.data, attempts.data));
    },
  );

  function messagePage(
    req: FastifyRequest,
    app: ApplicationRow,
    message: MessageDeliveries['message'],
    destinations: readonly MessageDestination[],
    attempts: readonly AttemptRow[],
    notice?: Html,
  ) {
    const resend = can(callerOf(req).actor, 'message.resend') && message.expungedAt === undefined;
    let payload = message.payload;
    try {
      payload = JSON.stringify(JSON.parse(message.payload), null, 2);
    } catch {
      // Shown as stored.
    }
    return {
      title: 'Message',
      section: 'deliveries' as const,
      appId: app.id,
      body: html`${notice ?? ''}
        <dl class="facts">
          <dt>Id</dt><dd><code>${message.id}</code>${message.eventId ? html` (event id <code>${message.eventId}</code>)` : ''}</dd>
          <dt>Event type</dt><dd>${message.eventType}</dd>
          <dt>Created</dt><dd>${when(message.createdAt)}</dd>
          ${message.channels ? html`<dt>Channels</dt><dd>${message.channels.join(', ')}</dd>` : ''}
        </dl>
        <h2>Deliveries</h2>
        ${
          destinations.length === 0
            ? html`<p>Sent to no endpoint.</p>`
            : html`<ul>${destinations.map((d) =>
                destination(
                  app,
                  d,
                  attempts,
                  resend
                    ? html`<p>${postButton(
                        req,
                        `/portal/app/${app.id}/deliveries/${message.id}/resend`,
                        `Resend to ${d.endpoint.url}`,
                        {
                          kind: 'secondary',
                          fields: { endpoint: d.endpoint.id },
                        },
                      )}</p>`
                    : '',
                ),
              )}</ul>`
        }
        <h2>Attempts</h2>
        ${
          attempts.length === 0
            ? html`<p>None yet.</p>`
            : html`<div class="scroll"><table class="responsive"><caption class="visually-hidden">Attempts, newest first</caption>
              <thead><tr><th scope="col">When</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Details</th></tr></thead>
              <tbody>${attempts.map(
                (
                  a,
                ) => html`<tr><td data-label="When">${when(a.createdAt)}</td><td data-label="Endpoint" class="wrap">${a.url}</td>
                  <td data-label="Status">${statusBadge(a.status)}</td><td data-label="Details">${attemptFacts(a)}${response(a)}</td></tr>`,
              )}</tbody></table></div>`
        }
        <h2>Payload</h2>
        ${message.expungedAt !== undefined ? html`<p class="muted">Deleted ${when(message.expungedAt)}: it is sent no more.</p>` : html`<pre>${payload}</pre>`}`,
    };
  }

  scope.post<{ Params: MsgParams; Body: Form }>('/app/:app/deliveries/:msg/resend', async (req, reply) => {
    const app = await appOfRequest(portal, req);
    const c = callerOf(req);
    // The endpoint is looked up within the session's application: an id of another's is not found.
    await services.messages.resend(c, app, req.params.msg, text(req.body, 'endpoint'));
    return reply.redirect(`/portal/app/${app.id}/deliveries/${encodeURIComponent(req.params.msg)}`, 303);
  });
}

function queryOf(q: Query): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v && k !== 'iterator' && k !== 'part') out.set(k, v);
  return out;
}
