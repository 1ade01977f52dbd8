/** One JSON line per decision. Callers pass facts only: never secrets, keys, bodies or query strings. */
export type GateLog = ((entry: Record<string, unknown>) => void) & { flush?: () => void };

/**
 * Lines are gathered during one event-loop turn and written together: stdout on a pipe is
 * synchronous on Linux, and one write per request measured as the gate's largest single cost.
 * `flush` writes what is pending (call it before exiting).
 */
export function jsonLines(write: (text: string) => void, now: () => number = Date.now): GateLog {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    write(text);
  };
  // One ISO string per millisecond, not per line: under load many lines share it.
  let lastMs = Number.NaN;
  let lastTime = '';
  const log: GateLog = (entry) => {
    if (pending.length === 0) setImmediate(flush);
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastTime = new Date(ms).toISOString();
    }
    pending.push(`${JSON.stringify({ time: lastTime, ...entry })}\n`);
  };
  log.flush = flush;
  return log;
}
