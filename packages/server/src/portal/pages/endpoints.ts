import { X509Certificate } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CheckReport } from '../../checker/types.ts';
import { can } from '../../services/actor.ts';
import type { EndpointBody } from '../../services/endpoint-input.ts';
import type { ApplicationRow, EndpointRow, EventTypeRow } from '../../store/types.ts';
import { type Form, FormRefused, refusalOf, text } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { type Portal, sendPage } from '../index.ts';
import { checkReportHtml } from './check-report.ts';
import {
  type AppParams,
  appOfRequest,
  callerOf,
  csrfField,
  field,
  fromLocalInput,
  postButton,
  toLocalInput,
  when,
} from './common.ts';
import {
  blankEndpoint,
  ENDPOINT_FIELDS,
  type EndpointFormValues,
  endpointBodyOf,
  endpointForm,
  valuesOfEndpoint,
  valuesOfForm,
} from './endpoint-form.ts';

type EpParams = AppParams & { ep: string };

/** A certificate's subject and fingerprint, for people. */
function identitySummary(pem: string | null): string | null {
  if (pem === null) return null;
  try {
    const cert = new X509Certificate(pem);
    return `${cert.subject.split('\n').join(', ')} (SHA-256 ${cert.fingerprint256})`;
  } catch {
    return 'a certificate that does not parse';
  }
}

/** The endpoints of one application: list, create, change, disable, delete, test, recover. */
export function endpointPages(scope: FastifyInstance, portal: Portal): void {
  const { services } = portal;
  const eps = services.endpoints;
  const base = (app: ApplicationRow) => `/portal/app/${app.id}/endpoints`;

  const catalog = async (req: FastifyRequest): Promise<EventTypeRow[]> =>
    (await services.eventTypes.list(callerOf(req), { limit: 250 })).data;

  async function load(req: FastifyRequest<{ Params: EpParams }>) {
    const app = await appOfRequest(portal, req);
    const ep = await eps.get(callerOf(req), app, req.params.ep);
    return { app, ep };
  }

  scope.get<{ Params: AppParams; Querystring: { iterator?: string } }>('/app/:app/endpoints', async (req, reply) => {
    const app = await appOfRequest(portal, req);
    const page = await eps.list(callerOf(req), app, { limit: 50, iterator: req.query.iterator ?? null });
    const manage = can(callerOf(req).actor, 'endpoint.manage');
    const rows = page.data.map(
      (e) => html`<tr>
        <td data-label="URL"><a class="wrap" href="${base(app)}/${e.id}">${e.url}</a>${e.description ? html`<br><span class="muted">${e.description}</span>` : ''}</td>
        <td data-label="Event types">${e.filterTypes ? e.filterTypes.join(', ') : html`<span class="muted">all</span>`}</td>
        <td data-label="Status">${endpointState(e)}</td>
      </tr>`,
    );
    return sendPage(req, reply, {
      title: 'Endpoints',
      section: 'endpoints',
      appId: app.id,
      body: html`<p class="muted">Application <strong>${app.name}</strong> (<code>${app.id}</code>).</p>
        ${manage ? html`<p class="actions"><a class="button" href="${base(app)}/new">Add an endpoint</a></p>` : ''}
        ${
          page.data.length === 0
            ? html`<p>No endpoints yet.</p>`
            : html`<div class="scroll"><table class="responsive"><caption class="visually-hidden">Endpoints</caption>
              <thead><tr><th scope="col">URL</th><th scope="col">Event types</th><th scope="col">Status</th></tr></thead>
              <tbody>${rows}</tbody></table></div>`
        }
        ${!page.done && page.iterator ? html`<p><a href="${base(app)}?iterator=${page.iterator}">More endpoints</a></p>` : ''}`,
    });
  });

  async function formPage(
    req: FastifyRequest,
    reply: FastifyReply,
    app: ApplicationRow,
    o: { values: EndpointFormValues; errors?: Record<string, string>; ep?: EndpointRow },
    status = 200,
  ) {
    return sendPage(
      req,
      reply,
      {
        title: o.ep ? 'Change the endpoint' : 'Add an endpoint',
        section: 'endpoints',
        appId: app.id,
        body: endpointForm(req, {
          action: o.ep ? `${base(app)}/${o.ep.id}` : base(app),
          values: o.values,
          ...(o.errors ? { errors: o.errors } : {}),
          eventTypes: await catalog(req),
          ownIdentity: identitySummary(o.ep?.clientCertPem ?? null),
          submit: o.ep ? 'Save' : 'Add the endpoint',
          ed25519: services.deps.ed25519Available === true,
        }),
      },
      status,
    );
  }

  /** Runs a change from the form; a refusal renders the form again, next to its fields. */
  async function fromForm(
    req: FastifyRequest<{ Body: Form }>,
    reply: FastifyReply,
    app: ApplicationRow,
    mode: 'create' | 'edit',
    save: (body: EndpointBody) => Promise<EndpointRow>,
    ep?: EndpointRow,
  ) {
    const values = valuesOfForm(req.body);
    try {
      const saved = await save(endpointBodyOf(values, mode));
      return reply.redirect(`${base(app)}/${saved.id}`, 303);
    } catch (err) {
      const refused = refusalOf(err, ENDPOINT_FIELDS);
      if (!(refused instanceof FormRefused)) throw refused;
      return formPage(req, reply, app, { values, errors: refused.errors, ...(ep ? { ep } : {}) }, 422);
    }
  }

  scope.get<{ Params: AppParams }>('/app/:app/endpoints/new', async (req, reply) => {
    const app = await appOfRequest(portal, req);
    return formPage(req, reply, app, { values: blankEndpoint() });
  });

  scope.post<{ Params: AppParams; Body: Form }>('/app/:app/endpoints', async (req, reply) => {
    const app = await appOfRequest(portal, req);
    return fromForm(req, reply, app, 'create', (body) => eps.create(callerOf(req), app, body));
  });

  scope.get<{ Params: EpParams; Querystring: { reveal?: string } }>('/app/:app/endpoints/:ep', async (req, reply) => {
    const { app, ep } = await load(req);
    const c = callerOf(req);
    const reveal = req.query.reveal === 'secret' ? await eps.secret(c, app, ep.id) : undefined;
    const stats = await eps.stats(c, app, ep.id, {});
    return sendPage(req, reply, {
      title: 'Endpoint',
      section: 'endpoints',
      appId: app.id,
      body: html`${endpointSummary(ep)}
        <h2>Deliveries</h2>
        <p>${stats.success} delivered, ${stats.pending} waiting, ${stats.sending} being sent, ${stats.fail} failed.
          <a href="/portal/app/${app.id}/deliveries?endpoint=${ep.id}">See them</a>.</p>
        ${await authentication(req, app, ep, reveal)}
        ${actions(req, app, ep)}`,
    });
  });

  scope.get<{ Params: EpParams }>('/app/:app/endpoints/:ep/edit', async (req, reply) => {
    const { app, ep } = await load(req);
    return formPage(req, reply, app, { values: valuesOfEndpoint(ep), ep });
  });

  scope.post<{ Params: EpParams; Body: Form }>('/app/:app/endpoints/:ep', async (req, reply) => {
    const { app, ep } = await load(req);
    return fromForm(req, reply, app, 'edit', (body) => eps.patch(callerOf(req), app, ep.id, body), ep);
  });

  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    scope.post<{ Params: EpParams; Body: Form }>(`/app/:app/endpoints/:ep/${path}`, async (req, reply) => {
      const { app, ep } = await load(req);
      await eps.patch(callerOf(req), app, ep.id, { disabled });
      return reply.redirect(`${base(app)}/${ep.id}`, 303);
    });
  }

  // Deleting asks first, on a page of its own: it works without the script's confirmation.
  scope.get<{ Params: EpParams }>('/app/:app/endpoints/:ep/delete', async (req, reply) => {
    const { app, ep } = await load(req);
    return sendPage(req, reply, {
      title: 'Delete the endpoint?',
      section: 'endpoints',
      appId: app.id,
      body: html`<p>Deleting <strong class="wrap">${ep.url}</strong> stops its deliveries and removes its history. It cannot be undone.</p>
        <div class="actions">${postButton(req, `${base(app)}/${ep.id}/delete`, 'Delete the endpoint', { kind: 'danger' })}
        <a href="${base(app)}/${ep.id}">Keep it</a></div>`,
    });
  });

  scope.post<{ Params: EpParams; Body: Form }>('/app/:app/endpoints/:ep/delete', async (req, reply) => {
    const { app, ep } = await load(req);
    await eps.remove(callerOf(req), app, ep.id);
    return reply.redirect(base(app), 303);
  });

  scope.post<{ Params: EpParams; Body: Form }>('/app/:app/endpoints/:ep/rotate-secret', async (req, reply) => {
    const { app, ep } = await load(req);
    await eps.rotateSecret(callerOf(req), app, ep.id);
    return reply.redirect(`${base(app)}/${ep.id}`, 303);
  });

  scope.post<{ Params: EpParams; Body: Form }>('/app/:app/endpoints/:ep/recover', async (req, reply) => {
    const { app, ep } = await load(req);
    const since = fromLocalInput(text(req.body, 'since'));
    if (since === undefined) {
      return sendPage(
        req,
        reply,
        {
          title: 'Endpoint',
          section: 'endpoints',
          appId: app.id,
          body: html`${endpointSummary(ep)}${recoverForm(req, app, ep, { since: text(req.body, 'since'), error: 'Give a date and time.' })}`,
        },
        422,
      );
    }
    const task = await eps.recover(callerOf(req), app, ep.id, { since });
    const count = (task.data as { messages?: number }).messages ?? 0;
    return sendPage(req, reply, {
      title: 'Recovering',
      section: 'endpoints',
      appId: app.id,
      body: html`<p class="notice ok" role="status">${count} failed ${count === 1 ? 'delivery is' : 'deliveries are'} being sent again.</p>
        <p><a href="${base(app)}/${ep.id}">Back to the endpoint</a> · <a href="/portal/app/${app.id}/deliveries?endpoint=${ep.id}">Deliveries</a></p>`,
    });
  });

  // The endpoint checker, as the API's check runs it: the report and the fixes it proposes.
  scope.post<{ Params: EpParams; Body: Form }>('/app/:app/endpoints/:ep/test', async (req, reply) => {
    const { app, ep } = await load(req);
    const report = (await services.checks.endpoint(callerOf(req), app, ep.id)) as CheckReport;
    return sendPage(req, reply, {
      title: 'Endpoint test',
      section: 'endpoints',
      appId: app.id,
      body: html`<p><a href="${base(app)}/${ep.id}">Back to the endpoint</a></p>${checkReportHtml(report)}`,
    });
  });

  function recoverForm(
    req: FastifyRequest,
    app: ApplicationRow,
    ep: EndpointRow,
    o: { since?: string; error?: string } = {},
  ): Html {
    if (!can(callerOf(req).actor, 'endpoint.recover')) return html``;
    const dayAgo = toLocalInput(services.deps.now() - 24 * 3_600_000);
    return html`<h2>Recover failed deliveries</h2>
      <form class="stack" method="post" action="${base(app)}/${ep.id}/recover">
        ${csrfField(req)}
        ${field({ name: 'since', label: 'Failed since (UTC)', type: 'datetime-local', value: o.since ?? dayAgo, errors: o.error ? { since: o.error } : {}, required: true })}
        <div><button type="submit" class="secondary">Send them again</button></div>
      </form>`;
  }

  function actions(req: FastifyRequest, app: ApplicationRow, ep: EndpointRow): Html {
    const actor = callerOf(req).actor;
    const manage = can(actor, 'endpoint.manage');
    const at = `${base(app)}/${ep.id}`;
    return html`<h2>Actions</h2>
      <div class="actions">
        ${can(actor, 'endpoint.check') ? postButton(req, `${at}/test`, 'Test endpoint') : ''}
        ${manage ? html`<a class="button secondary" href="${at}/edit">Change</a>` : ''}
        ${manage ? postButton(req, `${at}/${ep.disabled ? 'enable' : 'disable'}`, ep.disabled ? 'Enable' : 'Disable', { kind: 'secondary' }) : ''}
        ${manage ? html`<a class="button secondary" href="${at}/delete">Delete</a>` : ''}
      </div>
      ${can(actor, 'endpoint.check') ? html`<p class="hint">The test checks DNS, TLS, the certificate chain and mutual TLS the way a delivery meets them, and sends a signed test event (header <code>hookwarden-check: 1</code>).</p>` : ''}
      ${recoverForm(req, app, ep)}`;
  }

  async function authentication(
    req: FastifyRequest,
    app: ApplicationRow,
    ep: EndpointRow,
    revealed?: string,
  ): Promise<Html> {
    const actor = callerOf(req).actor;
    const doc = await services.deps.trust();
    const at = `${base(app)}/${ep.id}`;
    const tls = ep.url.startsWith('http://')
      ? html`<span class="badge warn">plain http</span> no TLS: no client certificate is presented.`
      : ep.clientCertPem
        ? html`Your own client certificate: <span class="wrap">${identitySummary(ep.clientCertPem)}</span>`
        : html`The platform’s client certificate${doc ? html` (SHA-256 <code class="wrap">${doc.certificates.current.fingerprints.sha256}</code>)` : ''}, on every connection.`;
    let signature: Html;
    if (ep.signing === 'ed25519') {
      const keys = doc?.signingPublicKeys ?? [];
      signature = html`v1a, Ed25519 with the platform’s key. Verify with ${
        keys.length ? keys.map((k) => html`<code class="wrap">${k}</code> `) : 'the keys of the trust document'
      }.`;
    } else if (revealed !== undefined) {
      signature = html`v1, HMAC-SHA256. Secret: <code class="wrap" id="secret">${revealed}</code>`;
    } else {
      const reveal = can(actor, 'endpoint.secret.read')
        ? html` <a href="${at}?reveal=secret#secret">Show the secret</a>`
        : html` <span class="muted">(this session may not see it)</span>`;
      signature = html`v1, HMAC-SHA256 with the endpoint’s secret.${reveal}`;
    }
    const rotate =
      ep.signing === 'hmac' && can(actor, 'endpoint.secret.rotate')
        ? html`<p>${postButton(req, `${at}/rotate-secret`, 'Rotate the secret', {
            kind: 'secondary',
            confirm: 'Rotate the secret? The current one keeps signing for 24 hours beside the new one.',
          })} <span class="hint">The current secret keeps signing beside the new one for 24 hours.</span></p>`
        : '';
    return html`<h2>Authentication</h2>
      <dl class="facts">
        <dt>Mutual TLS</dt><dd>${tls}</dd>
        <dt>Server certificate</dt><dd>${ep.serverCaPem ? 'Checked against your private CA.' : 'Checked against the public roots.'}</dd>
        <dt>Signature</dt><dd>${signature}</dd>
      </dl>
      ${rotate}
      <p><a href="/portal/app/${app.id}/security?endpoint=${ep.id}">Receiver configurations for this endpoint</a></p>`;
  }
}

function endpointState(e: EndpointRow): Html {
  if (e.disabled) return html`<span class="badge bad">disabled</span>`;
  if (e.failingSince !== null) return html`<span class="badge warn">failing</span> since ${when(e.failingSince)}`;
  return html`<span class="badge ok">enabled</span>`;
}

function endpointSummary(e: EndpointRow): Html {
  return html`<dl class="facts">
    <dt>URL</dt><dd><code class="wrap">${e.url}</code></dd>
    <dt>Id</dt><dd><code>${e.id}</code>${e.uid ? html` (uid <code>${e.uid}</code>)` : ''}</dd>
    ${e.description ? html`<dt>Description</dt><dd>${e.description}</dd>` : ''}
    <dt>Status</dt><dd>${endpointState(e)}</dd>
    <dt>Event types</dt><dd>${e.filterTypes ? e.filterTypes.join(', ') : 'all'}</dd>
    <dt>Channels</dt><dd>${e.channels ? e.channels.join(', ') : 'all'}</dd>
    <dt>Throttle</dt><dd>${e.rateLimit === null ? 'none of its own' : `${e.rateLimit} per second`}</dd>
    <dt>Created</dt><dd>${when(e.createdAt)}</dd>
  </dl>`;
}
