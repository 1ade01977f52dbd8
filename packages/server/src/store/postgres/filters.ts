import type { AttemptFilter } from '../types.ts';
import type { Params } from './page.ts';

/** `created_at` bounds of a list filter, on the table being listed. */
export function timeWindow(f: { before?: number; after?: number }, p: Params, column = 'created_at'): string {
  let sql = '';
  if (f.before !== undefined) sql += ` AND ${column} < ${p.add(f.before)}`;
  if (f.after !== undefined) sql += ` AND ${column} > ${p.add(f.after)}`;
  return sql;
}

/** Event-type, channel and tag conditions on the messages row called `m`. */
export function messageMatch(
  f: { eventTypes?: string[]; channel?: string; tag?: string },
  p: Params,
  m: string,
): string {
  let sql = '';
  if (f.eventTypes?.length) sql += ` AND ${m}.event_type = ANY(${p.add(f.eventTypes)}::text[])`;
  if (f.channel) sql += ` AND ${p.add(f.channel)}::text = ANY(${m}.channels)`;
  if (f.tag) sql += ` AND ${p.add(f.tag)}::text = ANY(${m}.tags)`;
  return sql;
}

/** The conditions of an attempt list beyond its message or endpoint. */
export function attemptFilter(f: AttemptFilter, p: Params): string {
  let where = '';
  if (f.status !== undefined) where += ` AND status = ${p.add(f.status)}`;
  if (f.statusCodeClass !== undefined)
    where += ` AND status_code / 100 = ${p.add(Math.floor(f.statusCodeClass / 100))}`;
  if (f.endpointId !== undefined) where += ` AND endpoint_id = ${p.add(f.endpointId)}`;
  where += timeWindow(f, p);
  const match = messageMatch(f, p, 'm');
  if (match) where += ` AND msg_id IN (SELECT id FROM messages m WHERE true${match})`;
  return where;
}
