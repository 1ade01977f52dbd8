import { pino } from 'pino';
import type { AttemptOutcome } from './delivery/types.ts';
import type { ClaimedDelivery } from './store/types.ts';

const SECRET_NAMES = ['secret', 'secrets', 'keyPem', 'key', 'token', 'adminToken'];

/**
 * JSON logs. Secrets never reach a line: the API logs no headers or bodies, and these paths are
 * redacted anyway in case a future call logs a whole object.
 */
export function createLogger(level = 'info', destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      // Each name at the top of a line's object and one level down.
      paths: ['req.headers.authorization', 'headers.authorization', ...SECRET_NAMES.flatMap((n) => [n, `*.${n}`])],
      censor: '[redacted]',
    },
  };
  // A destination (the CLI's readable lines on a terminal) gets the lines already redacted.
  return destination ? pino(options, destination) : pino(options);
}

function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url.split(/[?#]/)[0] as string;
  }
}

/**
 * One line per attempt's outcome: `delivered`, or `delivery failed` (a warning) with the failure's
 * kind, the phase a timeout hit and what happened. The endpoint's URL goes without its query
 * string, which receivers sometimes use for a token.
 */
export function logOutcome(
  logger: pino.Logger,
  delivery: ClaimedDelivery,
  outcome: AttemptOutcome,
  final: boolean,
): void {
  const fields = {
    msgId: delivery.message.id,
    endpointId: delivery.endpoint.id,
    url: withoutQuery(delivery.endpoint.url),
    status: outcome.statusCode,
    durationMs: Math.round(outcome.durationMs),
  };
  if (outcome.ok) {
    logger.info(fields, 'delivered');
    return;
  }
  const { kind, phase, message } = outcome.failure ?? { kind: 'http_status' };
  logger.warn(
    { ...fields, failure: kind, ...(phase ? { phase } : {}), ...(message ? { detail: message } : {}), final },
    final ? 'delivery failed, no retry left' : 'delivery failed',
  );
}
