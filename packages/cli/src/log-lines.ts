import type { DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

type Line = Record<string, unknown>;

/** `key=value` for the fields a line's own format did not use. */
function rest(log: Line, used: string[]): string {
  const skip = new Set([...used, 'level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'err']);
  const parts = Object.entries(log)
    .filter(([k, v]) => !skip.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const err = log.err as { message?: string } | undefined;
  return [...parts, ...(err?.message ? [`error: ${err.message}`] : [])].map((p) => ` ${p}`).join('');
}

/** The text of one line: requests and delivery outcomes in words, anything else as its message and fields. */
export function lineText(log: Line): string {
  const msg = String(log.msg ?? '');
  if (msg === 'request') {
    return `${log.method} ${log.path} ${log.statusCode} in ${log.durationMs} ms`;
  }
  if (msg === 'delivered') {
    return `delivered ${log.msgId} to ${log.url}: ${log.status} in ${log.durationMs} ms`;
  }
  if (msg.startsWith('delivery failed')) {
    const phase = log.phase ? ` (${log.phase} phase)` : '';
    const status = log.status ? `, answered ${log.status}` : '';
    const detail = log.detail ? `: ${log.detail}` : '';
    const used = ['msgId', 'endpointId', 'url', 'status', 'durationMs', 'failure', 'phase', 'detail', 'final'];
    return `${msg}: ${log.msgId} to ${log.url}: ${log.failure}${phase}${status}${detail}${rest(log, used)}`;
  }
  return `${msg}${rest(log, [])}`;
}

/**
 * Where serve's log lines go: readable lines (time, level, text) on a terminal or when asked,
 * else pino's JSON lines on standard output (undefined).
 */
export function logDestination(
  format: LogFormat,
  out: NodeJS.WriteStream = process.stdout,
): DestinationStream | undefined {
  if (format === 'json' || (format === 'auto' && !out.isTTY)) return undefined;
  return pretty({
    destination: out,
    sync: true,
    colorize: out.isTTY === true && !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss',
    hideObject: true,
    ignore: 'pid,hostname',
    messageFormat: (log) => lineText(log as Line),
  });
}
