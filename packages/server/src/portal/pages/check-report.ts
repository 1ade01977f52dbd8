import type { CheckReport, Finding, Verdict } from '../../checker/types.ts';
import { type Html, html } from '../html.ts';

const VERDICT: Record<Verdict, [string, string, string]> = {
  compatible: ['ok', 'Compatible', 'Deliveries to this endpoint will work.'],
  compatible_with_warnings: [
    'warn',
    'Compatible, with warnings',
    'Deliveries will work; the warnings below are worth fixing.',
  ],
  incompatible: ['bad', 'Incompatible', 'Deliveries to this endpoint will fail until the errors below are fixed.'],
};
const SEVERITY = { error: 'bad', warning: 'warn', info: 'info' } as const;

const yesNo = (v: boolean | null | undefined, yes = 'yes', no = 'no') =>
  v === true
    ? html`<span class="badge ok">${yes}</span>`
    : v === false
      ? html`<span class="badge bad">${no}</span>`
      : html`<span class="muted">unknown</span>`;

function finding(f: Finding): Html {
  return html`<li>
    <span class="badge ${SEVERITY[f.severity]}">${f.severity}</span> <code>${f.code}</code> ${f.message}
    ${f.fix ? html`<p><strong>Fix:</strong> ${f.fix}</p>` : ''}
  </li>`;
}

/** The endpoint checker's report (the same as `hookwarden check` prints), for people. */
export function checkReportHtml(r: CheckReport): Html {
  const [kind, label, meaning] = VERDICT[r.verdict];
  const auth = r.clientAuth;
  const accepted = r.tls.protocols.filter((p) => p.accepted === true).map((p) => p.version);
  return html`<section aria-labelledby="verdict">
    <h2 id="verdict"><span class="badge ${kind}">${label}</span></h2>
    <p role="status">${meaning}</p>
    <p class="muted">${r.url}, checked ${r.checkedAt} in ${r.durationMs} ms.</p>
    <h3>Fixes and findings</h3>
    ${r.findings.length === 0 ? html`<p>No problems found.</p>` : html`<ul>${r.findings.map(finding)}</ul>`}
    <h3>What the check saw</h3>
    <dl class="facts">
      <dt>DNS</dt><dd>${r.dns.error ?? r.dns.answers.map((a) => html`${a.address} ${a.allowed ? '' : html`<span class="badge bad">forbidden</span> ${a.reason ?? ''}`}<br>`)}</dd>
      <dt>Connection</dt><dd>${r.connect.ok ? html`${r.connect.address ?? ''}:${r.port} in ${r.connect.timeMs?.toFixed(1) ?? '?'} ms` : (r.connect.error ?? 'not attempted')}</dd>
      <dt>TLS versions</dt><dd>${accepted.length ? accepted.join(', ') : 'none accepted'}</dd>
      <dt>Negotiated</dt><dd>${r.tls.negotiated ? `${r.tls.negotiated.protocol} ${r.tls.negotiated.cipher}` : '—'}</dd>
      <dt>Certificate chain</dt><dd>trusted ${yesNo(r.chain.trusted)} complete ${yesNo(r.chain.complete)} in order ${yesNo(r.chain.ordered)} host name ${yesNo(r.chain.hostnameMatch, 'matches', 'does not match')}
        ${r.chain.daysToExpiry !== undefined ? html`<br>expires in ${r.chain.daysToExpiry} days` : ''}
        ${r.chain.certificates.map((c) => html`<br><span class="wrap">${c.subject}</span> <span class="muted">issued by ${c.issuer}</span>`)}</dd>
      <dt>Client certificate</dt><dd>${auth.mode}${auth.detectedBy.length ? ` (from ${auth.detectedBy.join(' and ')})` : ''}
        ${auth.withPlatformCertificate.attempted ? html`<br>with the platform’s certificate: ${yesNo(auth.withPlatformCertificate.ok, 'accepted', 'refused')} ${auth.withPlatformCertificate.error ?? ''}` : ''}
        ${auth.platformCaAdvertised !== null ? html`<br>platform CA among the CA names your server sends: ${yesNo(auth.platformCaAdvertised)}` : ''}</dd>
      <dt>Test event</dt><dd>${r.http.attempted ? (r.http.error ?? `answered ${r.http.statusCode} in ${r.http.latencyMs?.toFixed(1) ?? '?'} ms`) : 'not sent'}</dd>
      ${r.server ? html`<dt>Server</dt><dd>${r.server.software} (${r.server.evidence})</dd>` : ''}
    </dl>
  </section>`;
}
