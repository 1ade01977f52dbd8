/** One JSON line per decision. Callers pass facts only: never secrets, keys, bodies or query strings. */
export type GateLog = (entry: Record<string, unknown>) => void;

export function jsonLines(write: (line: string) => void, now: () => number = Date.now): GateLog {
  return (entry) => write(`${JSON.stringify({ time: new Date(now()).toISOString(), ...entry })}\n`);
}
