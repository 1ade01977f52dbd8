import type { FastifyInstance } from 'fastify';
import type { EndpointRow } from '../../store/types.ts';
import type { CertificateFacts, TrustDocument } from '../../trust.ts';
import { fieldId, type Html, html } from '../html.ts';
import { type Portal, sendPage } from '../index.ts';
import { receiverSnippets } from '../snippets.ts';
import { type AppParams, appOfRequest, callerOf, when } from './common.ts';

const DAY = 24 * 3_600_000;

function certificate(label: string, c: CertificateFacts, now: number): Html {
  const left = Math.floor((Date.parse(c.notAfter) - now) / DAY);
  return html`<div class="card">
    <h3>${label}</h3>
    <dl class="facts">
      <dt>Subject</dt><dd class="wrap">${c.subject}</dd>
      ${c.dnsNames.length ? html`<dt>DNS names</dt><dd>${c.dnsNames.join(', ')}</dd>` : ''}
      <dt>Valid from</dt><dd>${when(Date.parse(c.notBefore))}</dd>
      <dt>Valid until</dt><dd>${when(Date.parse(c.notAfter))} (${left} days)</dd>
      <dt>SHA-256</dt><dd><code class="wrap">${c.fingerprints.sha256}</code></dd>
      <dt>SHA-1</dt><dd><code class="wrap">${c.fingerprints.sha1}</code></dd>
      <dt>Public key (SPKI SHA-256)</dt><dd><code class="wrap">${c.fingerprints.spkiSha256}</code></dd>
    </dl>
  </div>`;
}

/** Where a rotation stands, for the receivers that pin. */
export function rotationText(t: TrustDocument): Html {
  const next = t.certificates.next;
  if (!next) {
    return html`<p>No rotation is under way. The next certificate will be listed here and in the trust document
      before it is used, so pins can follow it.</p>`;
  }
  return html`<p><strong>A rotation is under way: trust or pin both certificates now.</strong> The next certificate is
    valid from ${when(Date.parse(next.notBefore))}; it replaces the current one when the operator promotes it, at the
    latest by ${when(Date.parse(t.certificates.current.notAfter))}, when the current one expires.</p>`;
}

/** Everything a receiver needs to authenticate callbacks, without asking anyone. */
export function securityPages(scope: FastifyInstance, portal: Portal): void {
  const { services } = portal;

  scope.get<{ Params: AppParams; Querystring: { endpoint?: string } }>('/app/:app/security', async (req, reply) => {
    const app = await appOfRequest(portal, req);
    const c = callerOf(req);
    const trust = await services.deps.trust();
    const endpoints = (await services.endpoints.list(c, app, { limit: 250 })).data;
    const chosen = req.query.endpoint ? await services.endpoints.get(c, app, req.query.endpoint) : endpoints[0];
    const publicUrl = services.deps.publicUrl;
    if (!trust) {
      return sendPage(req, reply, {
        title: 'Security',
        section: 'security',
        appId: app.id,
        body: html`<p class="notice bad">The platform has no client certificate configured yet: there is nothing to trust. Ask the operator.</p>`,
      });
    }
    const now = services.deps.now();
    return sendPage(req, reply, {
      title: 'Security',
      section: 'security',
      appId: app.id,
      body: html`<p>Everything your receiver needs to be sure a callback comes from this platform. The trust document,
        <a href="${publicUrl}/api/v1/trust"><code class="wrap">${publicUrl}/api/v1/trust</code></a>, holds all of it as JSON
        and changes before a rotation does: receivers that follow it need no change when certificates rotate.</p>

        <h2>CA bundle</h2>
        <p>Your server requires a client certificate that chains to this bundle (intermediate and root, in one file).</p>
        <p><a class="button" href="/portal/app/${app.id}/security/ca-bundle.pem" download="hookwarden-ca-bundle.pem">Download the CA bundle</a></p>
        <details><summary>Show the bundle</summary><pre>${trust.caBundlePem}</pre></details>

        <h2>Client certificates</h2>
        ${rotationText(trust)}
        <div class="cards">
          ${certificate('Current', trust.certificates.current, now)}
          ${trust.certificates.next ? certificate('Next', trust.certificates.next, now) : ''}
        </div>

        <h2>Egress addresses</h2>
        ${
          trust.egressCidrs.length > 0
            ? html`<p>Callbacks come from these addresses only:</p><ul>${trust.egressCidrs.map((cidr) => html`<li><code>${cidr}</code></li>`)}</ul>`
            : html`<p class="muted">This platform publishes no egress addresses: allowlist by certificate and signature instead.</p>`
        }

        <h2>Signing keys</h2>
        ${
          trust.signingPublicKeys.length > 0
            ? html`<p>Endpoints signed with v1a (Ed25519) verify with:</p><ul>${trust.signingPublicKeys.map((k) => html`<li><code class="wrap">${k}</code></li>`)}</ul>`
            : html`<p class="muted">No Ed25519 key: every endpoint is signed with its own secret (v1).</p>`
        }

        <h2>Receiver configurations</h2>
        ${configurations(app.id, endpoints, chosen, trust, publicUrl)}`,
    });
  });

  // The bundle as a file; the same bytes as /api/v1/trust/ca-bundle.pem.
  scope.get<{ Params: AppParams }>('/app/:app/security/ca-bundle.pem', async (req, reply) => {
    await appOfRequest(portal, req);
    const trust = await services.deps.trust();
    if (!trust) return reply.code(404).type('text/plain').send('no CA bundle yet');
    return reply
      .header('content-disposition', 'attachment; filename="hookwarden-ca-bundle.pem"')
      .type('application/x-pem-file')
      .send(trust.caBundlePem);
  });
}

function configurations(
  appId: string,
  endpoints: readonly EndpointRow[],
  chosen: EndpointRow | undefined,
  trust: TrustDocument,
  publicUrl: string,
): Html {
  if (!chosen) return html`<p>Add an endpoint first: the configurations are made for it.</p>`;
  let host = 'hooks.example.com';
  try {
    host = new URL(chosen.url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    // A stored URL always parses; the example name stands otherwise.
  }
  const snippets = receiverSnippets({ host, signing: chosen.signing, publicUrl, trust });
  const id = fieldId('endpoint');
  return html`<form class="filters" method="get" action="/portal/app/${appId}/security">
      <div class="field"><label for="${id}">For the endpoint</label>
        <select id="${id}" name="endpoint" data-autosubmit>${endpoints.map(
          (e) => html`<option value="${e.id}"${e.id === chosen.id ? html` selected` : ''}>${e.url}</option>`,
        )}</select></div>
      <div><button type="submit">Show</button></div>
    </form>
    <p class="muted">Made for <code>${host}</code>. Put the CA bundle at <code>/etc/hookwarden/ca-bundle.pem</code> and your
      server certificate and key at <code>/etc/ssl/hooks/${host}.pem</code> and <code>.pem.key</code>, or change the paths.
      ${chosen.signing === 'hmac' ? html`The code reads the endpoint’s signing secret from <code>HOOKWARDEN_WEBHOOK_SECRET</code>.` : ''}</p>
    ${snippets.map(
      (s) => html`<details id="config-${s.id}"><summary>${s.title}</summary>
        <p class="hint">${s.hint}</p><pre><code>${s.text}</code></pre></details>`,
    )}`;
}
