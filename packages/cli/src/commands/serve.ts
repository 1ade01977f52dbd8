import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openPkiStore } from '@hookwarden/pki';
import {
  createLogger,
  lockDataDirectory,
  type PlatformIdentity,
  ServerError,
  type ServerOptions,
  startServer,
} from '@hookwarden/server';
import { generateEd25519Key } from '@hookwarden/verify/signature';
import { parseCommandArgs } from '../args.ts';
import { LOG_FORMATS, type LogFormat, logDestination } from '../log-lines.ts';
import type { Command } from '../main.ts';
import { stopRequested } from '../stop-request.ts';

const HELP = `Usage: hookwarden serve [options]

Runs the delivery platform: the Svix-compatible API, the dispatcher and the trust document.

Options (each also read from the environment variable shown):
  --port <n>                 HOOKWARDEN_PORT            listen port (default 8071)
  --host <addr>              HOOKWARDEN_HOST            listen address (default 127.0.0.1)
  --data <dir>               HOOKWARDEN_DATA            data directory (default ./hookwarden-data)
  --database-url <url>       HOOKWARDEN_DATABASE_URL    PostgreSQL (not available yet)
  --egress-address <ip>      HOOKWARDEN_EGRESS_ADDRESS  source address for deliveries
  --egress-cidr <cidr>       HOOKWARDEN_EGRESS_CIDRS    address receivers see (repeatable; env: comma-separated)
  --public-url <url>         HOOKWARDEN_PUBLIC_URL      the origin customers reach this server at (https://hooks.example.com):
                                                        portal links are built from it, its cookies are Secure over https
                                                        (default http://host:port)
  --portal-frame-ancestors <origin>  HOOKWARDEN_PORTAL_FRAME_ANCESTORS  a page allowed to embed the portal
                                                        (repeatable; env: comma-separated; default: none)
  --allow-private-targets    HOOKWARDEN_ALLOW_PRIVATE_TARGETS=1  deliver to loopback/private addresses (development only)
  --retry-schedule <ms,...>  HOOKWARDEN_RETRY_SCHEDULE_MS  retry delays in ms (default: Standard Webhooks schedule)
  --concurrency <n>          HOOKWARDEN_CONCURRENCY     deliveries in flight at once (default 2048; ~62 KiB each if they hang)
  --endpoint-concurrency <n> HOOKWARDEN_ENDPOINT_CONCURRENCY  most in flight to one endpoint (default 16; adaptive below)
  --delivery-timeouts <phase=ms,...>  HOOKWARDEN_DELIVERY_TIMEOUTS  dns, connect, tls, headers, total
                             (default dns=5000,connect=5000,tls=5000,headers=15000,total=30000)
  --log-level <level>        HOOKWARDEN_LOG_LEVEL       fatal|error|warn|info|debug (default info)
  --log-format <format>      HOOKWARDEN_LOG_FORMAT      pretty (readable lines), json, or auto (default):
                                                        pretty on a terminal, JSON lines otherwise
  -h, --help                 this help
The admin token comes from HOOKWARDEN_ADMIN_TOKEN, else <data>/admin-token (created on first start).
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const GRACE_MS = 10_000;

function bad(detail: string): ServerError {
  return new ServerError('HW_CLI_USAGE', detail, { status: 400 });
}

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9]\d{0,6}$/.test(text.trim())) throw bad(`${flag}: '${text}' is not a whole number ≥ 1`);
  return Number(text);
}

const TIMEOUT_PHASES = {
  dns: 'dnsTimeoutMs',
  connect: 'connectTimeoutMs',
  tls: 'tlsTimeoutMs',
  headers: 'headersTimeoutMs',
  total: 'totalTimeoutMs',
} as const;

/** `dns=2000,headers=10000` → the delivery client's phase timeouts; the others keep their defaults. */
function deliveryTimeouts(text: string | undefined): NonNullable<ServerOptions['delivery']> {
  const out: NonNullable<ServerOptions['delivery']> = {};
  for (const part of (text ?? '').split(',')) {
    if (part.trim() === '') continue;
    const [phase = '', ms = ''] = part.split('=').map((s) => s.trim());
    if (!Object.hasOwn(TIMEOUT_PHASES, phase)) {
      throw bad(`--delivery-timeouts: '${phase}' is not one of ${Object.keys(TIMEOUT_PHASES).join(', ')}`);
    }
    out[TIMEOUT_PHASES[phase as keyof typeof TIMEOUT_PHASES]] = wholeNumber(`--delivery-timeouts ${phase}`, ms || '-');
  }
  return out;
}

/**
 * Reads a secret file, or creates it 0600 with `create()` on first start. One that others may read
 * is refused, as the PKI store refuses such key files: the secret may already be out.
 */
function secretFile(path: string, create: () => string): { value: string; created: boolean } {
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      throw new ServerError(
        'HW_SECRET_FILE_PERMISSIONS',
        `${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it, and replace the secret if it may have been read`,
        { status: 500 },
      );
    }
    return { value: readFileSync(path, 'utf8').trim(), created: false };
  }
  const value = create();
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

export const command: Command = {
  async run(argv) {
    const parsed = parseCommandArgs('serve', HELP, {
      args: argv,
      strict: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        'database-url': { type: 'string' },
        'egress-address': { type: 'string' },
        'egress-cidr': { type: 'string', multiple: true },
        'allow-private-targets': { type: 'boolean' },
        'public-url': { type: 'string' },
        'portal-frame-ancestors': { type: 'string', multiple: true },
        'retry-schedule': { type: 'string' },
        concurrency: { type: 'string' },
        'endpoint-concurrency': { type: 'string' },
        'delivery-timeouts': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (typeof parsed === 'number') return parsed;
    const { values } = parsed;
    const env = process.env;
    const portText = values.port ?? env.HOOKWARDEN_PORT ?? '8071';
    const port = Number(portText);
    if (!/^\d{1,5}$/.test(portText) || port > 65535) throw bad(`--port: '${portText}' is not a port number`);
    const logLevel = values['log-level'] ?? env.HOOKWARDEN_LOG_LEVEL ?? 'info';
    if (!LOG_LEVELS.includes(logLevel)) throw bad(`--log-level: '${logLevel}' is not one of ${LOG_LEVELS.join(', ')}`);
    const logFormat = values['log-format'] ?? env.HOOKWARDEN_LOG_FORMAT ?? 'auto';
    if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
      throw bad(`--log-format: '${logFormat}' is not one of ${LOG_FORMATS.join(', ')}`);
    }
    const databaseUrl = values['database-url'] ?? env.HOOKWARDEN_DATABASE_URL;
    if (databaseUrl) {
      throw new ServerError(
        'HW_DATABASE_UNSUPPORTED',
        'PostgreSQL support is not available yet: omit --database-url to keep everything in SQLite under --data',
        { status: 500 },
      );
    }
    const scheduleText = values['retry-schedule'] ?? env.HOOKWARDEN_RETRY_SCHEDULE_MS;
    const retryScheduleMs = scheduleText?.split(',').map((s) => Number(s.trim()));
    if (retryScheduleMs?.some((n) => !Number.isInteger(n) || n < 0)) {
      throw bad('--retry-schedule: give non-negative whole milliseconds separated by commas');
    }
    const concurrency = wholeNumber('--concurrency', values.concurrency ?? env.HOOKWARDEN_CONCURRENCY);
    const perEndpointConcurrency = wholeNumber(
      '--endpoint-concurrency',
      values['endpoint-concurrency'] ?? env.HOOKWARDEN_ENDPOINT_CONCURRENCY,
    );
    const delivery = deliveryTimeouts(values['delivery-timeouts'] ?? env.HOOKWARDEN_DELIVERY_TIMEOUTS);
    const egressCidrs = (values['egress-cidr'] ?? env.HOOKWARDEN_EGRESS_CIDRS?.split(',') ?? [])
      .map((c) => c.trim())
      .filter(Boolean);
    const publicUrl = values['public-url'] ?? env.HOOKWARDEN_PUBLIC_URL;
    const frameAncestors = (values['portal-frame-ancestors'] ?? env.HOOKWARDEN_PORTAL_FRAME_ANCESTORS?.split(',') ?? [])
      .map((a) => a.trim())
      .filter(Boolean);
    const allowPrivateTargets =
      values['allow-private-targets'] ?? ['1', 'true', 'yes'].includes(env.HOOKWARDEN_ALLOW_PRIVATE_TARGETS ?? '');

    const dataDir = resolve(values.data ?? env.HOOKWARDEN_DATA ?? 'hookwarden-data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    // Released by the kernel when this process ends, however it ends (a kill -9 included).
    const lock = lockDataDirectory(dataDir);
    const logger = createLogger(logLevel, logDestination(logFormat as LogFormat));

    // The client certificate: created on first start unless `hookwarden ca import` put one there.
    const pki = await openPkiStore(join(dataDir, 'pki'));
    if (!pki.exists()) {
      await pki.init({ subject: 'CN=Hookwarden webhooks,O=Hookwarden', keyType: 'ec-p256' });
      logger.info({ dir: pki.dir }, 'created the CA hierarchy and client certificate');
    }
    // describeCertificate is not free: keep one identity, refreshed when the operator signals a rotation.
    let identity: PlatformIdentity = pki.identity();
    const reload = async () => {
      await pki.reload();
      identity = pki.identity();
      logger.info({ fingerprint: identity.current.fingerprints.sha256 }, 'client certificate reloaded');
    };

    let adminToken = env.HOOKWARDEN_ADMIN_TOKEN;
    if (!adminToken) {
      const file = secretFile(join(dataDir, 'admin-token'), () => `hwadm_${randomBytes(32).toString('base64url')}`);
      adminToken = file.value;
      if (file.created) {
        // Shown once, on the terminal only, never through the JSON log.
        process.stderr.write(
          `\nAdmin token (also saved to ${join(dataDir, 'admin-token')}, mode 0600):\n  ${adminToken}\n\n`,
        );
      }
    }
    const signing = JSON.parse(
      secretFile(join(dataDir, 'signing-key.json'), () => JSON.stringify(generateEd25519Key())).value,
    ) as { secret: string; publicKey: string };

    const server = await startServer({
      port,
      host: values.host ?? env.HOOKWARDEN_HOST ?? '127.0.0.1',
      dataDir,
      adminToken,
      identity: () => identity,
      signingKeys: [signing],
      egressCidrs,
      allowPrivateTargets,
      ...(publicUrl ? { publicUrl } : {}),
      portal: { frameAncestors },
      ...((values['egress-address'] ?? env.HOOKWARDEN_EGRESS_ADDRESS)
        ? { egressAddress: values['egress-address'] ?? env.HOOKWARDEN_EGRESS_ADDRESS }
        : {}),
      logger,
      dispatcher: {
        ...(retryScheduleMs ? { retryScheduleMs } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(perEndpointConcurrency !== undefined ? { perEndpointConcurrency } : {}),
      },
      delivery,
    });
    logger.info({ url: server.url, data: dataDir }, 'hookwarden listening');

    return await new Promise<number>((done) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping: no new claims, finishing in-flight deliveries');
        server.close({ deadlineMs: GRACE_MS }).then(
          () => {
            lock.release();
            logger.info('stopped');
            // Deliveries abandoned at the deadline had their connections destroyed by the close
            // (their leases are released, so the next start delivers them again): the process
            // exits on its own once the command returns.
            done(0);
          },
          (err) => {
            logger.error({ err }, 'unclean stop');
            done(1);
          },
        );
      };
      void stopRequested().then(stop);
      process.on('SIGHUP', () => {
        reload().catch((err) => logger.error({ err }, 'reload failed'));
      });
    });
  },
};
