import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  generateProxyConfig,
  PROXY_CONFIG_KINDS,
  ProxyConfigError,
  type ProxyConfigKind,
  standaloneNginx,
} from '@hookwarden/verify/proxy-config';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../main.ts';

const HELP = `Usage: hookwarden proxy-config nginx|haproxy|caddy [options]

Prints a reverse-proxy configuration that requires and verifies the platform's client certificate
and forwards its facts to your app (read them with @hookwarden/verify or \`hookwarden gate\`).

Options:
  --server-name NAME     host name callbacks are sent to (required)
  --listen PORT|ADDR:PORT  where the proxy listens for TLS (default 443)
  --upstream URL         your app, e.g. http://127.0.0.1:3000 (required); an https:// app is
                         verified by the DNS name in the URL (nginx/HAProxy: not an IP address)
  --upstream-ca PATH     https app only: the CA bundle its certificate must chain to
                         (default: the system's trust store)
  --ca-bundle PATH       the platform's CA bundle, PEM (required)
  --cert PATH            your server certificate chain, PEM (required)
  --key PATH             its private key (HAProxy: the same file or <cert>.key) (required)
  --verify-depth N       intermediates allowed above the client certificate (default 2;
                         nginx only: HAProxy and Caddy have no such limit)
  --subject DN           refuse in the proxy unless the subject DN is this one (repeatable)
  --fingerprint HEX      refuse in the proxy unless the certificate has this fingerprint (repeatable;
                         SHA-1 for nginx, SHA-1 or SHA-256 for HAProxy, SHA-256 for Caddy)
  --source-address IP    connect to the app from this address, so it can trust exactly that one
  --standalone DIR       nginx only: a whole nginx.conf keeping its pid, logs and temporary files
                         in DIR, to try locally with nginx -p DIR -c FILE (default: the part for
                         conf.d)
  --out FILE             write the configuration to FILE instead of standard output
  -h, --help             show this help

Relative paths are resolved against the current directory: the configuration names absolute ones.
`;

/** The flag behind each option of generateProxyConfig, so an error names what the user typed. */
const FLAGS: Record<string, string> = {
  serverName: '--server-name',
  listen: '--listen',
  upstream: '--upstream',
  upstreamCaBundlePath: '--upstream-ca',
  caBundlePath: '--ca-bundle',
  serverCertPath: '--cert',
  serverKeyPath: '--key',
  verifyDepth: '--verify-depth',
  subjects: '--subject',
  fingerprints: '--fingerprint',
  mode: '--subject/--fingerprint',
  sourceAddress: '--source-address',
  standalone: '--standalone',
};

/** The same error, naming the flag (`--ca-bundle`, `--subject #2`) instead of the library's field. */
function asFlagError(err: unknown): unknown {
  if (!(err instanceof ProxyConfigError) || err.field === undefined) return err;
  const m = /^([A-Za-z]+)(?:\[(\d+)\])?$/.exec(err.field);
  const flag = m ? FLAGS[m[1] as string] : undefined;
  if (!m || flag === undefined) return err;
  const which = m[2] === undefined ? '' : ` #${Number(m[2]) + 1}`;
  return new ProxyConfigError(err.code, `${flag}${which}: ${err.reason}`, { field: err.field, reason: err.reason });
}

const absolute = (path: string | undefined) => (path === undefined || path === '' ? path : resolve(path));

function parse(argv: string[]) {
  return parseCommandArgs('proxy-config', HELP, {
    args: argv,
    allowPositionals: true,
    options: {
      'server-name': { type: 'string' },
      listen: { type: 'string', default: '443' },
      upstream: { type: 'string' },
      'upstream-ca': { type: 'string' },
      'ca-bundle': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'verify-depth': { type: 'string' },
      subject: { type: 'string', multiple: true },
      fingerprint: { type: 'string', multiple: true },
      'source-address': { type: 'string' },
      standalone: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export const command: Command = {
  async run(argv) {
    const parsed = parse(argv);
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    const [kind, ...extra] = positionals;
    if (kind === undefined || !PROXY_CONFIG_KINDS.includes(kind as ProxyConfigKind) || extra.length > 0) {
      process.stderr.write(`hookwarden proxy-config: expected one of ${PROXY_CONFIG_KINDS.join(', ')}\n\n${HELP}`);
      return 2;
    }
    const depth = values['verify-depth'];
    if (depth !== undefined && !/^[0-9]+$/.test(depth)) {
      throw new ProxyConfigError('HW_PROXY_CONFIG_INVALID', '--verify-depth: expected an integer');
    }
    if (values.standalone !== undefined && kind !== 'nginx') {
      throw new ProxyConfigError(
        'HW_PROXY_CONFIG_INVALID',
        `--standalone: nginx only (the ${kind} configuration is complete as it is)`,
      );
    }
    const check = (values.subject?.length ?? 0) > 0 || (values.fingerprint?.length ?? 0) > 0;
    let text: string;
    try {
      text = generateProxyConfig(kind as ProxyConfigKind, {
        serverName: values['server-name'] ?? '',
        listen: values.listen ?? '443',
        upstream: values.upstream ?? '',
        upstreamCaBundlePath: absolute(values['upstream-ca']),
        caBundlePath: absolute(values['ca-bundle']) ?? '',
        serverCertPath: absolute(values.cert) ?? '',
        serverKeyPath: absolute(values.key) ?? '',
        verifyDepth: depth === undefined ? undefined : Number(depth),
        mode: check ? 'check' : 'headers',
        subjects: values.subject,
        fingerprints: values.fingerprint,
        sourceAddress: values['source-address'],
      });
      if (values.standalone !== undefined) text = standaloneNginx(text, absolute(values.standalone) as string);
    } catch (err) {
      throw asFlagError(err);
    }
    if (values.out) writeFileSync(values.out, text, { mode: 0o644 });
    else process.stdout.write(text);
    return 0;
  },
};
