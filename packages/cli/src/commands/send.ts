import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HookwardenError } from '@hookwarden/verify/errors';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../main.ts';

const HELP = `Usage: hookwarden send <app> <event-type> [payload] [options]

Sends a message through a running hookwarden serve and, with --wait, prints what each endpoint
answered to its first attempt.

Arguments:
  <app>                 the application's id or uid
  <event-type>          e.g. invoice.paid
  [payload]             a JSON object (default {}); - reads it from standard input

Options (each also read from the environment variable shown):
  --url <url>           HOOKWARDEN_URL    the server (default http://127.0.0.1:8071)
  --data <dir>          HOOKWARDEN_DATA   whose admin-token to use (default ./hookwarden-data);
                        HOOKWARDEN_ADMIN_TOKEN, when set, is used instead
  --event-id <id>       the message's eventId: sending the same one again delivers nothing new
  --channel <name>      a channel of the message (repeatable)
  --wait                wait for each endpoint's first attempt and print it
  --timeout <seconds>   how long --wait waits (default 30)
  --json                print the API's answers as JSON
  -h, --help            this help

Exit status: 0 sent (with --wait: and every endpoint answered 2xx), 1 not sent or a delivery
failed, 2 bad usage.`;

class SendError extends HookwardenError {
  override readonly name = 'SendError';
}

/** Svix's MessageStatus numbers, as the API answers them. */
const SUCCESS = 0;
const POLL_MS = 200;

interface Attempt {
  endpointId: string;
  url: string;
  status: number;
  responseStatusCode: number;
  responseDurationMs: number;
  failureKind: string | null;
  failureDetail: string | null;
  tls: { protocol: string; clientCertificateSent: boolean } | null;
}

interface Destination {
  id: string;
  url: string;
  status: number;
  nextAttempt: string | null;
}

function adminToken(dataDir: string): string {
  const fromEnv = process.env.HOOKWARDEN_ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const path = join(dataDir, 'admin-token');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new SendError(
      'HW_CLI_NO_TOKEN',
      `cannot read the admin token from ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}): pass --data <dir> of the running server, or set HOOKWARDEN_ADMIN_TOKEN`,
      { status: 400 },
    );
  }
}

/** The payload, or what is wrong with it. */
function payloadOf(arg: string | undefined): { payload: object } | { problem: string } {
  const text = arg === '-' ? readFileSync(0, 'utf8') : (arg ?? '{}');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    return { problem: `the payload is not JSON: ${(err as Error).message}` };
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { problem: 'the payload must be a JSON object, e.g. \'{"invoice":42}\'' };
  }
  return { payload };
}

/** One API call; an error answer becomes a SendError with the server's own code and detail. */
async function call<T>(
  base: string,
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new SendError('HW_CLI_UNREACHABLE', `cannot reach ${base} (${cause}): is hookwarden serve running there?`, {
      status: 400,
    });
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new SendError('HW_CLI_API_ERROR', `${res.status} from ${path} is not JSON: is ${base} a hookwarden server?`, {
      status: 400,
    });
  }
  if (!res.ok) {
    const e = parsed as { code?: string; detail?: unknown } | undefined;
    const detail = typeof e?.detail === 'string' ? e.detail : JSON.stringify(e?.detail ?? text);
    throw new SendError(e?.code ?? 'HW_CLI_API_ERROR', `${res.status} from ${path}: ${detail}`, { status: 400 });
  }
  return { status: res.status, body: parsed as T };
}

function attemptLine(d: Destination, a: Attempt | undefined): string {
  if (a === undefined) return `  … ${d.url}  no attempt yet`;
  const ok = a.status === SUCCESS;
  const tls = a.tls
    ? ` (${a.tls.protocol}, client certificate ${a.tls.clientCertificateSent ? 'sent' : 'not sent'})`
    : '';
  const answer = a.responseStatusCode ? `${a.responseStatusCode}` : 'no answer';
  const why = ok ? '' : `: ${a.failureKind ?? 'failed'}${a.failureDetail ? ` (${a.failureDetail})` : ''}`;
  const retry = !ok && d.nextAttempt ? `; next attempt ${d.nextAttempt}` : '';
  return `  ${ok ? '✔' : '✘'} ${d.url}  ${answer} in ${a.responseDurationMs} ms${tls}${why}${retry}`;
}

export const command: Command = {
  async run(argv) {
    const parsed = parseCommandArgs('send', HELP, {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        data: { type: 'string' },
        'event-id': { type: 'string' },
        channel: { type: 'string', multiple: true },
        wait: { type: 'boolean' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    const fail = (detail: string) => {
      process.stderr.write(`hookwarden send: ${detail}\n\n${HELP}\n`);
      return 2;
    };
    const [app, eventType, payloadArg, ...extra] = positionals;
    if (app === undefined || eventType === undefined) return fail('give the application and the event type');
    if (extra.length > 0) return fail(`unexpected argument '${extra[0]}' (quote the payload as one argument)`);
    const timeoutText = values.timeout ?? '30';
    if (!/^\d+(\.\d+)?$/.test(timeoutText)) return fail(`--timeout '${timeoutText}' is not a number of seconds`);
    const body = payloadOf(payloadArg);
    if ('problem' in body) return fail(body.problem);
    const base = (values.url ?? process.env.HOOKWARDEN_URL ?? 'http://127.0.0.1:8071').replace(/\/+$/, '');
    const token = adminToken(resolve(values.data ?? process.env.HOOKWARDEN_DATA ?? 'hookwarden-data'));
    const appPath = `/app/${encodeURIComponent(app)}`;

    const sent = await call<{ id: string }>(base, token, `${appPath}/msg`, {
      eventType,
      payload: body.payload,
      ...(values['event-id'] === undefined ? {} : { eventId: values['event-id'] }),
      ...(values.channel === undefined ? {} : { channels: values.channel }),
    });
    const msgPath = `${appPath}/msg/${encodeURIComponent(sent.body.id)}`;
    const destinations = async () =>
      (await call<{ data: Destination[] }>(base, token, `${msgPath}/endpoint?limit=250`)).body.data;
    let dests = await destinations();
    // 200 instead of 202: the eventId was sent before; the API answers with that message.
    const repeated = sent.status === 200;

    const attempts = new Map<string, Attempt>();
    if (values.wait && !repeated) {
      const deadline = Date.now() + Number(timeoutText) * 1000;
      while (dests.some((d) => !attempts.has(d.id)) && Date.now() < deadline) {
        // The server has no stream of outcomes to follow: ask again shortly.
        await new Promise((r) => setTimeout(r, POLL_MS));
        const page = await call<{ data: Attempt[] }>(
          base,
          token,
          `/app/${encodeURIComponent(app)}/attempt/msg/${encodeURIComponent(sent.body.id)}?limit=250`,
        );
        // Newest first: the earliest attempt per endpoint is the last one seen.
        for (const a of page.body.data) attempts.set(a.endpointId, a);
        dests = await destinations();
      }
    }

    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ message: sent.body, repeated, destinations: dests, attempts: [...attempts.values()] }, null, 2)}\n`,
      );
    } else {
      const head = repeated
        ? `already sent as ${sent.body.id} (same --event-id ${values['event-id']}): nothing new is delivered`
        : `sent ${sent.body.id} (${eventType}) to ${dests.length} endpoint${dests.length === 1 ? '' : 's'}`;
      const lines = [head];
      if (dests.length === 0 && !repeated) {
        lines.push('  no enabled endpoint of this application takes this event type (and channels)');
      }
      if (values.wait && !repeated) for (const d of dests) lines.push(attemptLine(d, attempts.get(d.id)));
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!values.wait || repeated) return 0;
    return dests.every((d) => attempts.get(d.id)?.status === SUCCESS) ? 0 : 1;
  },
};
