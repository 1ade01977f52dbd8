import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  type CertificateInfo,
  type Identity,
  KEY_TYPES,
  type KeyType,
  openPkiStore,
  PKI_CODES,
  PkiError,
} from '@hookwarden/pki';
import type { Command } from '../main.ts';

const DEFAULT_DIR = './hookwarden-data/pki';

const HELP = `Usage: hookwarden ca <action> [options]

The certificate authority behind the client certificate presented on every callback.

Actions:
  init     --subject DN [--dns NAME]... [--key-type TYPE] [--validity-days N]
           create a root CA, an intermediate CA and the client certificate
  show     [--json]        subject, DNS names, validity and fingerprints of current and next
  rotate   [--validity-days N] [--key-type TYPE] [--force | --if-expires-within DAYS]
           issue the next certificate now, valid alongside the current one; with
           --if-expires-within only when the current one ends that soon (for a daily job)
  promote                  make the next certificate the current one
  export   --bundle | --chain | --cert | --key [--next]
           print the CA bundle receivers trust, the chain presented, the certificate,
           or (only when asked) the private key
  import   --cert FILE --key FILE --chain FILE [--next]
           use a certificate issued by another CA (as the next one with --next)

Options:
  --dir DIR            store directory (default ${DEFAULT_DIR})
  --key-type TYPE      ${KEY_TYPES.join(' | ')} (default ec-p256)
  -h, --help           this text
`;

const OPTIONS = {
  dir: { type: 'string', default: DEFAULT_DIR },
  subject: { type: 'string' },
  dns: { type: 'string', multiple: true },
  'key-type': { type: 'string' },
  'validity-days': { type: 'string' },
  json: { type: 'boolean' },
  force: { type: 'boolean' },
  'if-expires-within': { type: 'string' },
  next: { type: 'boolean' },
  bundle: { type: 'boolean' },
  chain: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

// What the operator does next, printed under the human-readable output.
const NEXT_STEP: Record<string, string> = {
  init: 'Next: give receivers the CA bundle (hookwarden ca export --bundle) and, if they pin, the SHA-256 above.',
  rotate: 'Next: receivers add the next SHA-256 to their pins; then run hookwarden ca promote.',
  promote: 'Done: the certificate above is presented from now on; receivers may drop the old pin.',
};

// `export --chain` is a flag while `import --chain FILE` takes a value: parse export's flags apart.
const EXPORT_OPTIONS = {
  dir: OPTIONS.dir,
  bundle: { type: 'boolean' },
  chain: { type: 'boolean' },
  cert: { type: 'boolean' },
  key: { type: 'boolean' },
  next: { type: 'boolean' },
  help: OPTIONS.help,
} as const;

const ALLOWED: Record<string, string[]> = {
  init: ['dir', 'subject', 'dns', 'key-type', 'validity-days'],
  show: ['dir', 'json'],
  rotate: ['dir', 'validity-days', 'key-type', 'force', 'if-expires-within'],
  promote: ['dir'],
  import: ['dir', 'cert', 'key', 'chain', 'next'],
};

function keyType(v: string | undefined): KeyType | undefined {
  if (v === undefined) return undefined;
  if (!(KEY_TYPES as readonly string[]).includes(v))
    throw new UsageError(`--key-type must be one of ${KEY_TYPES.join(', ')}`);
  return v as KeyType;
}

function days(v: string | undefined, flag = '--validity-days'): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(v)) throw new UsageError(`${flag} must be a whole number of days`);
  return Number(v);
}

function daysLeft(info: CertificateInfo): number {
  return Math.floor((info.notAfter.getTime() - Date.now()) / 86_400_000);
}

function describe(title: string, info: CertificateInfo): string {
  const rows: [string, string][] = [
    ['subject', info.subject],
    ['issuer', info.issuer],
    ['DNS names', info.dnsNames.join(', ') || '(none)'],
    ['valid', `${info.notBefore.toISOString()} → ${info.notAfter.toISOString()} (${daysLeft(info)} days left)`],
    ['serial', info.serialHex],
    ['key type', info.keyType],
    ['SHA-256', info.fingerprints.sha256],
    ['SHA-1', info.fingerprints.sha1],
    ['nginx fingerprint', `${info.fingerprints.sha1Hex}  ($ssl_client_fingerprint)`],
    ['SPKI pin', `${info.fingerprints.spkiSha256}  (base64 SHA-256 of the public key)`],
  ];
  return `${title}\n${rows.map(([k, v]) => `  ${k.padEnd(18)} ${v}`).join('\n')}\n`;
}

function render(dir: string, id: Identity, json: boolean): string {
  if (json) {
    const info = (i: CertificateInfo) => ({
      subject: i.subject,
      issuer: i.issuer,
      dnsNames: i.dnsNames,
      notBefore: i.notBefore.toISOString(),
      notAfter: i.notAfter.toISOString(),
      serialHex: i.serialHex,
      keyType: i.keyType,
      fingerprints: i.fingerprints,
    });
    const body = { dir, current: info(id.current), next: id.next ? info(id.next) : null, caBundlePem: id.caBundlePem };
    return `${JSON.stringify(body, null, 2)}\n`;
  }
  let out = `PKI store ${dir}\n\n${describe('current certificate (presented on every callback)', id.current)}`;
  if (id.next) {
    out += `\n${describe('next certificate (receivers can trust and pin it now; run `hookwarden ca promote` to switch)', id.next)}`;
  }
  return out;
}

async function readInput(path: string | undefined, flag: string): Promise<string> {
  if (path === undefined) throw new UsageError(`ca import needs --${flag} FILE`);
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new PkiError(
      PKI_CODES.OPTION_INVALID,
      `--${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    process.stdout.write(HELP);
    return action === undefined ? 2 : 0;
  }
  const out = (s: string): number => {
    process.stdout.write(s);
    return 0;
  };
  try {
    if (action === 'export') {
      const { values } = parseArgs({ args: rest, options: EXPORT_OPTIONS, strict: true, allowPositionals: false });
      if (values.help) return out(HELP);
      const chosen = (['bundle', 'chain', 'cert', 'key'] as const).filter((k) => values[k]);
      if (chosen.length !== 1) throw new UsageError('ca export needs exactly one of --bundle, --chain, --cert, --key');
      const store = await openPkiStore(values.dir);
      const id = store.identity();
      const what = chosen[0]!;
      if (what === 'bundle') return out(id.caBundlePem);
      const source = values.next ? id.next : id;
      if (!source)
        throw new PkiError(PKI_CODES.NO_NEXT, 'there is no next certificate: run hookwarden ca rotate first');
      return out(what === 'chain' ? source.chainPem : what === 'cert' ? source.certPem : source.keyPem);
    }
    const allowed = ALLOWED[action];
    if (!allowed) throw new UsageError(`unknown action '${action}'`);
    const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false });
    if (values.help) return out(HELP);
    for (const [name, value] of Object.entries(values)) {
      if (value !== undefined && name !== 'help' && !allowed.includes(name)) {
        throw new UsageError(`--${name} does not apply to ca ${action}`);
      }
    }
    const store = await openPkiStore(values.dir);
    let id: Identity;
    switch (action) {
      case 'init':
        if (!values.subject)
          throw new UsageError('ca init needs --subject DN, e.g. --subject "CN=callbacks.example.com,O=Example"');
        id = await store.init({
          subject: values.subject,
          dnsNames: values.dns ?? [],
          keyType: keyType(values['key-type']),
          validityDays: days(values['validity-days']),
        });
        break;
      case 'show':
        id = store.identity();
        break;
      case 'rotate': {
        const bundleBefore = store.identity().caBundlePem;
        id = await store.rotate({
          validityDays: days(values['validity-days']),
          keyType: keyType(values['key-type']),
          force: values.force,
          ifExpiresWithinDays: days(values['if-expires-within'], '--if-expires-within'),
        });
        if (!id.next) {
          const left = daysLeft(id.current);
          const notDue = `Not due: the current certificate has ${left} days left; nothing was issued.\n`;
          return out(values.json ? render(values.dir, id, true) : notDue);
        }
        // A renewed intermediate is new to receivers that configured the bundle as a file.
        if (id.caBundlePem !== bundleBefore && !values.json) {
          return out(
            `${render(values.dir, id, false)}\n${NEXT_STEP.rotate}\nThe CA bundle changed (a new intermediate CA): give receivers hookwarden ca export --bundle again before promote.\n`,
          );
        }
        break;
      }
      case 'promote':
        id = await store.promote();
        break;
      default:
        id = await store.import({
          certPem: await readInput(values.cert, 'cert'),
          keyPem: await readInput(values.key, 'key'),
          chainPem: await readInput(values.chain, 'chain'),
          next: values.next === true,
        });
    }
    const hint = values.json ? undefined : NEXT_STEP[action];
    return out(render(values.dir, id, values.json === true) + (hint ? `\n${hint}\n` : ''));
  } catch (err) {
    const usage = err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    if (!usage) throw err;
    process.stderr.write(`hookwarden ca: ${(err as Error).message}\nRun \`hookwarden ca --help\` for usage.\n`);
    return 2;
  }
}

export const command: Command = { run };
