import type { CheckReport, Severity, Verdict } from './types.ts';

/**
 * Characters a terminal acts on instead of printing: C0 controls, DEL, C1 controls (U+009B is a
 * one-byte CSI) and the invisible format characters that reorder or hide text (bidi marks,
 * embeddings, isolates, zero-width characters, line separators, BOM). Names, errors and messages
 * in a report can carry text the server chose.
 */
const BEYOND_C0 = '\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff';
const UNSAFE = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, 'g');
/** The same without C0 controls: JSON.stringify escapes those itself, and its own newlines must stay. */
const UNSAFE_IN_JSON = new RegExp(`[${BEYOND_C0}]`, 'g');

const codeOf = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Server-supplied text made inert for a terminal: every unsafe character shown as `\uXXXX`. */
export function sanitizeText(text: string): string {
  return text.replace(UNSAFE, codeOf);
}

/**
 * The report as JSON with the same characters escaped (`\uXXXX` is the same string to a JSON
 * reader; JSON.stringify escapes only C0 controls), so `--json` printed to a terminal is inert too.
 */
export function reportJson(report: CheckReport): string {
  return JSON.stringify(report, null, 2).replace(UNSAFE_IN_JSON, codeOf);
}

/** The human form of a report: one labelled row per fact, then the findings with their fixes. */
export function renderReport(report: CheckReport, opts: { color: boolean }): string {
  const safe = sanitizeText;
  const paint = (code: number) => (s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const red = paint(31);
  const green = paint(32);
  const yellow = paint(33);
  const dim = paint(2);
  const bold = paint(1);
  const yesNo = (v: boolean | null | undefined, yes = 'yes', no = 'no'): string =>
    v === true ? green(yes) : v === false ? red(no) : dim('unknown');
  const verdictColor: Record<Verdict, (s: string) => string> = {
    compatible: green,
    compatible_with_warnings: yellow,
    incompatible: red,
  };
  const severityColor: Record<Severity, (s: string) => string> = { error: red, warning: yellow, info: dim };

  const lines: string[] = [];
  const row = (label: string, text: string): void => {
    lines.push(`${bold(label.padEnd(12))}${text}`);
  };
  const more = (text: string): void => {
    lines.push(`${' '.repeat(12)}${text}`);
  };

  lines.push(
    `${bold(safe(report.url))}  ${verdictColor[report.verdict](report.verdict.toUpperCase().replaceAll('_', ' '))}`,
  );
  lines.push(dim(`checked ${report.checkedAt} in ${report.durationMs} ms`));
  lines.push('');

  if (report.dns.error) row('DNS', red(safe(report.dns.error)));
  report.dns.answers.forEach((a, i) => {
    const text = `${safe(a.address).padEnd(18)} ${a.allowed ? green('allowed') : red('forbidden')}${a.reason ? dim(` (${safe(a.reason)})`) : ''}`;
    if (i === 0) row('DNS', text);
    else more(text);
  });
  if (report.connect.address) {
    row(
      'TCP',
      report.connect.ok
        ? `${safe(report.connect.address)}:${report.port} connected in ${report.connect.timeMs?.toFixed(1)} ms`
        : red(`${safe(report.connect.address)}:${report.port} ${safe(report.connect.error ?? '')}`),
    );
  }
  if (report.tls.protocols.length > 0) {
    row(
      'Protocols',
      report.tls.protocols
        .map(
          (p) =>
            `${p.version} ${p.inPolicy ? yesNo(p.accepted) : p.accepted ? yellow('yes') : dim(p.accepted === false ? 'no' : '?')}`,
        )
        .join('  '),
    );
  }
  report.tls.ciphers.forEach((c, i) => {
    const total = c.accepted.length + c.rejected.length;
    const head = `${c.version.padEnd(8)} ${c.accepted.length}/${total} of the dispatcher's suites`;
    (i === 0 ? row : (_: string, t: string) => more(t))('Ciphers', head);
    for (const suite of c.accepted) more(`  ${green('+')} ${safe(suite)}`);
  });
  if (report.tls.negotiated)
    row('Negotiated', safe(`${report.tls.negotiated.protocol} ${report.tls.negotiated.cipher}`));

  const chain = report.chain;
  if (chain.certificates.length > 0) {
    row(
      'Chain',
      [
        `trusted ${yesNo(chain.trusted)}${chain.trustError ? dim(` (${safe(chain.trustError)})`) : ''}`,
        `complete ${yesNo(chain.complete)}`,
        `in order ${yesNo(chain.ordered)}`,
        `host name ${yesNo(chain.hostnameMatch, 'matches', 'does not match')}`,
        dim(chain.source === 'handshake' ? 'as sent' : 'as completed by the client'),
      ].join('  '),
    );
    chain.certificates.forEach((c, i) => {
      const key = safe(`${c.keyType}${c.keyBits ? ` ${c.keyBits}` : ''}${c.curve ? ` ${c.curve}` : ''}`);
      const days = c.daysToExpiry < 21 ? red(`${c.daysToExpiry} d`) : `${c.daysToExpiry} d`;
      more(`#${i} ${safe(c.subject)}  ${dim(`issuer ${safe(c.issuer)}`)}  ${key}  expires in ${days}`);
    });
  }

  const auth = report.clientAuth;
  const spoke = report.tls.protocols.some((p) => p.accepted === true);
  const mode =
    auth.mode === 'required' ? green('required') : auth.mode === 'unknown' ? dim('unknown') : yellow(auth.mode);
  if (spoke)
    row('Client auth', `${mode}${auth.detectedBy.length ? dim(` (from ${auth.detectedBy.join(' and ')})`) : ''}`);
  if (auth.caNames.length > 0) {
    more(`CA names: ${safe(auth.caNames.join('; '))}`);
  }
  if (auth.platformCaAdvertised !== null) more(`platform CA among them: ${yesNo(auth.platformCaAdvertised)}`);
  if (auth.withPlatformCertificate.attempted) {
    more(
      `with the platform's certificate: ${yesNo(auth.withPlatformCertificate.ok, 'accepted', 'refused')}${
        auth.withPlatformCertificate.error ? dim(` (${safe(auth.withPlatformCertificate.error)})`) : ''
      }`,
    );
  }
  if (!auth.withPlatformCertificate.attempted && spoke)
    more(dim('no client certificate was sent (no platform identity given)'));
  if (report.server) row('Server', `${report.server.software} ${dim(`(${safe(report.server.evidence)})`)}`);
  if (report.http.attempted) {
    const status = report.http.statusCode;
    row(
      'HTTP',
      report.http.error
        ? red(safe(report.http.error))
        : `test event answered ${status !== undefined && status >= 200 && status < 300 ? green(String(status)) : yellow(String(status))} in ${report.http.latencyMs?.toFixed(1)} ms`,
    );
  }

  lines.push('');
  if (report.findings.length === 0) lines.push(green('No problems found.'));
  for (const f of report.findings) {
    lines.push(`${severityColor[f.severity](f.severity.toUpperCase().padEnd(8))}${f.code}  ${safe(f.message)}`);
    if (f.fix) lines.push(`${' '.repeat(8)}${dim('fix:')} ${safe(f.fix)}`);
  }
  return `${lines.join('\n')}\n`;
}
