import type { FastifyInstance } from 'fastify';
import type { ConsoleOverview } from '../../services/console.ts';
import type { TrustDocument } from '../../trust.ts';
import { lineChart } from '../charts.ts';
import { type Form, ticked } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { type Portal, sendPage } from '../index.ts';
import { callerOf, pager, postButton, when } from './common.ts';
import { rotationText } from './security.ts';

const HOURS = [1, 6, 24] as const;
const BUCKETS = 30;
const DAY = 24 * 3_600_000;
/** Rotate when the current certificate has this little left (what `hookwarden ca rotate --if-expires-within` defaults to). */
const ROTATE_WITHIN_DAYS = 30;

function charts(o: ConsoleOverview): Html {
  const b = o.timeline.buckets;
  const starts = b.map((x) => x.start);
  let depth = o.timeline.queuedAtStart;
  const depths = b.map((x) => {
    depth += x.enqueued - x.finished;
    return Math.max(0, depth);
  });
  const perMinute = 60_000 / o.bucketMs;
  return html`<div class="cards charts">
    ${lineChart({ id: 'queue', title: 'Queue depth', unit: 'deliveries waiting, at the end of each slice', starts, series: [{ label: 'waiting', values: depths }] })}
    ${lineChart({
      id: 'rate',
      title: 'Delivery rate',
      unit: 'attempts per minute',
      starts,
      series: [
        { label: 'delivered', values: b.map((x) => (x.attempts - x.failed) * perMinute) },
        { label: 'failed', values: b.map((x) => x.failed * perMinute) },
      ],
    })}
    ${lineChart({
      id: 'latency',
      title: 'Latency',
      unit: 'ms per attempt',
      starts,
      series: [
        { label: 'mean', values: b.map((x) => (x.attempts ? Math.round(x.durationMsSum / x.attempts) : 0)) },
        { label: 'slowest', values: b.map((x) => x.durationMsMax) },
      ],
    })}
  </div>`;
}

function troubled(o: ConsoleOverview): Html {
  if (o.troubled.length === 0) return html`<p>No endpoint is failing, disabled or held back by its throttle.</p>`;
  return html`<div class="scroll"><table class="responsive"><caption class="visually-hidden">Endpoints in trouble</caption>
    <thead><tr><th scope="col">Application</th><th scope="col">Endpoint</th><th scope="col">State</th><th scope="col">Waiting</th><th scope="col">Circuit</th></tr></thead>
    <tbody>${o.troubled.map((t) => {
      const e = t.endpoint;
      const state = e.disabled
        ? html`<span class="badge bad">disabled</span>`
        : e.failingSince !== null
          ? html`<span class="badge warn">failing</span> since ${when(e.failingSince)}`
          : html`<span class="badge info">throttled</span> to ${t.throttle} per second`;
      return html`<tr>
        <td data-label="Application"><a href="/portal/app/${e.appId}/endpoints">${t.appName}</a></td>
        <td data-label="Endpoint"><a class="wrap" href="/portal/app/${e.appId}/endpoints/${e.id}">${e.url}</a></td>
        <td data-label="State">${state}</td>
        <td data-label="Waiting">${t.pending}</td>
        <td data-label="Circuit">${t.circuit ? t.circuit.state : html`<span class="muted">not reported</span>`}</td>
      </tr>`;
    })}</tbody></table></div>`;
}

function certificates(trust: TrustDocument | undefined, now: number): Html {
  if (!trust)
    return html`<p class="notice bad">No client certificate is configured: nothing can be delivered over mutual TLS.</p>`;
  const current = trust.certificates.current;
  const next = trust.certificates.next;
  const left = Math.floor((Date.parse(current.notAfter) - now) / DAY);
  let advice: Html;
  if (!next) {
    advice =
      left <= ROTATE_WITHIN_DAYS
        ? html`<p class="notice bad">The current certificate expires in ${left} days: run <code>hookwarden ca rotate</code> now, so receivers can pin the next one before it is used.</p>`
        : html`<p>Rotate (<code>hookwarden ca rotate --if-expires-within ${ROTATE_WITHIN_DAYS}</code>) when ${ROTATE_WITHIN_DAYS} days or less are left: on ${when(Date.parse(current.notAfter) - ROTATE_WITHIN_DAYS * DAY)}.</p>`;
  } else if (Date.parse(next.notBefore) > now) {
    advice = html`<p>The next certificate is announced. Promote it (<code>hookwarden ca promote</code>) once it is valid, from ${when(Date.parse(next.notBefore))}, and receivers had time to pin it.</p>`;
  } else {
    advice = html`<p class="notice">The next certificate is announced and valid. Promote it (<code>hookwarden ca promote</code>) once receivers had time to pin it (those following the trust document have it within minutes), before ${when(Date.parse(current.notAfter))}.</p>`;
  }
  return html`<dl class="facts">
      <dt>Current</dt><dd class="wrap">${current.subject}, until ${when(Date.parse(current.notAfter))} (${left} days left)<br><code>${current.fingerprints.sha256}</code></dd>
      <dt>Next</dt><dd class="wrap">${next ? html`${next.subject}, ${when(Date.parse(next.notBefore))} to ${when(Date.parse(next.notAfter))}<br><code>${next.fingerprints.sha256}</code>` : 'none announced'}</dd>
    </dl>
    ${advice}
    ${rotationText(trust)}`;
}

/** The operator's pages: the console, and the applications with their portals. */
export function operatorPages(scope: FastifyInstance, portal: Portal): void {
  const { services } = portal;
  const config = { portal: 'operator' } as const;

  scope.get<{ Querystring: { hours?: string } }>('/operator', { config }, async (req, reply) => {
    const hours = HOURS.find((h) => String(h) === req.query.hours) ?? 6;
    const o = await services.console.overview(callerOf(req), { hours, buckets: BUCKETS });
    return sendPage(req, reply, {
      title: 'Console',
      section: 'console',
      body: html`<nav class="actions" aria-label="Time range">Last ${HOURS.map((h) =>
        h === hours
          ? html`<strong aria-current="true">${h} h</strong>`
          : html`<a href="/portal/operator?hours=${h}">${h} h</a>`,
      )}</nav>
        ${charts(o)}
        <h2>Endpoints in trouble</h2>
        ${troubled(o)}
        <h2>Certificates</h2>
        ${certificates(o.trust, o.now)}`,
    });
  });

  scope.get<{ Querystring: { iterator?: string } }>('/operator/applications', { config }, async (req, reply) => {
    const page = await services.applications.list(callerOf(req), { limit: 50, iterator: req.query.iterator ?? null });
    return sendPage(req, reply, {
      title: 'Applications',
      section: 'applications',
      body: html`${
        page.data.length === 0
          ? html`<p>No applications yet: create them through the API.</p>`
          : html`<div class="scroll"><table class="responsive"><caption class="visually-hidden">Applications</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Created</th><th scope="col">Portal</th></tr></thead>
            <tbody>${page.data.map(
              (a) => html`<tr>
                <td data-label="Name"><a href="/portal/app/${a.id}/endpoints">${a.name}</a></td>
                <td data-label="Id"><code>${a.id}</code>${a.uid ? html`<br>uid <code>${a.uid}</code>` : ''}</td>
                <td data-label="Created">${when(a.createdAt)}</td>
                <td data-label="Portal">${postButton(req, `/portal/operator/applications/${a.id}/link`, 'Make a sign-in link', { kind: 'secondary' })}</td>
              </tr>`,
            )}</tbody></table></div>`
      }
      ${pager('/portal/operator/applications', new URLSearchParams(), page, !req.query.iterator)}`,
    });
  });

  // A customer's sign-in link, as app-portal-access makes it: to mail to the customer.
  scope.post<{ Params: { app: string }; Body: Form }>(
    '/operator/applications/:app/link',
    { config },
    async (req, reply) => {
      const readOnly = ticked(req.body, 'readOnly');
      const { app, url } = await services.access.grant(
        callerOf(req),
        req.params.app,
        readOnly ? { readOnly } : undefined,
      );
      return sendPage(req, reply, {
        title: 'Sign-in link',
        section: 'applications',
        body: html`<p>A link for <strong>${app.name}</strong>, valid for 7 days, which signs in once:</p>
        <pre class="wrap" id="link">${url}</pre>
        <p class="muted">Send it to the customer; anyone holding it can sign in until it is used.</p>
        <p><a href="/portal/operator/applications">Back to the applications</a></p>`,
      });
    },
  );
}
