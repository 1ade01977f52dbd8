import { readFile } from 'node:fs/promises';
import { type CheckOptions, type ClientIdentity, renderReport, reportJson, runCheck } from '@hookwarden/server/checker';
import { HookwardenError } from '@hookwarden/verify/errors';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../main.ts';

const HELP = `Usage: hookwarden check <https-url> [options]

Checks whether the platform can deliver callbacks to an HTTPS endpoint, and why not:
DNS and the SSRF policy, TCP, TLS versions and cipher suites, the server's certificate chain,
client-certificate authentication, and a signed test event. Prints a table, or JSON with --json
(the format is documented in docs/checker.md).

Options:
  --json                    print the report as JSON
  --client-cert <file>      the platform's client certificate (PEM)
  --client-key <file>       its private key (PEM)
  --client-chain <file>     its intermediates (PEM; a file starting with the leaf is used as is)
  --pki-dir <dir>           take the client identity and CA bundle from a hookwarden PKI store
  --platform-ca <file>      the platform's CA bundle, to look for among the CAs the server names
  --ca <file>               the CA that issued the server's certificate (default: public roots)
  --secret-file <file>      endpoint signing secret (whsec_...) for the test event
  --timeout <duration>      bound on the whole check: 15s (default), 1500ms, or seconds
  --concurrency <n>         connections at once (default 8)
  --allow-private-targets   allow loopback and private addresses (local servers, development)
  -h, --help                show this help

Exit status: 0 compatible (with or without warnings), 1 incompatible, 2 bad usage.`;

class UsageError extends HookwardenError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('HW_CLI_USAGE', message, { status: 400 });
  }
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--timeout '${text}' is not a duration (e.g. 15s, 1500ms)`);
  return m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000;
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function fromPkiDir(dir: string): Promise<{ identity: ClientIdentity; caBundlePem: string }> {
  // The PKI store is loaded only for this flag (it pulls in the certificate library).
  const { openPkiStore } = await import('@hookwarden/pki');
  const store = await openPkiStore(dir);
  if (!store.exists())
    throw new UsageError(`--pki-dir ${dir} holds no PKI store (create one with \`hookwarden ca init\`)`);
  const { certPem, keyPem, chainPem, caBundlePem } = store.identity();
  return { identity: { certPem, keyPem, chainPem }, caBundlePem };
}

/** Colours only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export const command: Command = {
  async run(argv) {
    const parsed = parse(argv);
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    if (positionals.length !== 1) {
      process.stderr.write(`hookwarden check: give exactly one URL\n\n${HELP}\n`);
      return 2;
    }
    try {
      const options = await buildOptions(positionals[0]!, values);
      const report = await runCheck(options);
      if (values.json) process.stdout.write(`${reportJson(report)}\n`);
      else process.stdout.write(renderReport(report, { color: useColor(process.stdout, process.env) }));
      const forbidden = report.findings.some((f) => f.code === 'HW_CHECK_ADDRESS_FORBIDDEN');
      const privateOnly = report.dns.answers.length > 0 && report.dns.answers.every((a) => a.reason !== undefined);
      if (forbidden && privateOnly && !values['allow-private-targets']) {
        process.stderr.write(
          'hookwarden check: the host has no public address; to check a local or private server, pass --allow-private-targets\n',
        );
      }
      return report.verdict === 'incompatible' ? 1 : 0;
    } catch (err) {
      if (
        err instanceof UsageError ||
        (err instanceof HookwardenError && /^HW_CHECK_(OPTIONS|URL)_INVALID$/.test(err.code))
      ) {
        process.stderr.write(`hookwarden check: ${err.code}: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
  },
};

function parse(argv: string[]) {
  return parseCommandArgs('check', HELP, {
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'client-cert': { type: 'string' },
      'client-key': { type: 'string' },
      'client-chain': { type: 'string' },
      'pki-dir': { type: 'string' },
      'platform-ca': { type: 'string' },
      ca: { type: 'string' },
      'secret-file': { type: 'string' },
      timeout: { type: 'string' },
      concurrency: { type: 'string' },
      'allow-private-targets': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function buildOptions(
  url: string,
  values: Exclude<ReturnType<typeof parse>, number>['values'],
): Promise<CheckOptions> {
  const options: CheckOptions = { url, allowPrivateTargets: values['allow-private-targets'] === true };
  const certFlags = ['client-cert', 'client-key', 'client-chain'] as const;
  if (values['pki-dir'] !== undefined && certFlags.some((f) => values[f] !== undefined)) {
    throw new UsageError('use either --pki-dir or --client-cert/--client-key, not both');
  }
  if (values['pki-dir'] !== undefined) {
    const { identity, caBundlePem } = await fromPkiDir(values['pki-dir']);
    options.clientIdentity = identity;
    options.platformCaPem = caBundlePem;
  } else if (values['client-cert'] !== undefined || values['client-key'] !== undefined) {
    if (values['client-cert'] === undefined || values['client-key'] === undefined) {
      throw new UsageError('--client-cert and --client-key go together');
    }
    const certPem = await readPem('--client-cert', values['client-cert']);
    const keyPem = await readPem('--client-key', values['client-key']);
    let chainPem = certPem;
    if (values['client-chain'] !== undefined) {
      const chain = await readPem('--client-chain', values['client-chain']);
      chainPem = chain.trim().startsWith(certPem.trim()) ? chain : `${certPem.trimEnd()}\n${chain}`;
    }
    options.clientIdentity = { certPem, keyPem, chainPem } satisfies ClientIdentity;
  } else if (values['client-chain'] !== undefined) {
    throw new UsageError('--client-chain needs --client-cert and --client-key');
  }
  if (values['platform-ca'] !== undefined)
    options.platformCaPem = await readPem('--platform-ca', values['platform-ca']);
  if (values.ca !== undefined) options.serverCaPem = await readPem('--ca', values.ca);
  if (values['secret-file'] !== undefined) {
    options.testEventSecret = (await readPem('--secret-file', values['secret-file'])).trim();
  }
  if (values.timeout !== undefined) options.timeoutMs = parseDuration(values.timeout);
  if (values.concurrency !== undefined) {
    const n = Number(values.concurrency);
    if (!Number.isInteger(n)) throw new UsageError(`--concurrency '${values.concurrency}' is not a whole number`);
    options.concurrency = n;
  }
  return options;
}
