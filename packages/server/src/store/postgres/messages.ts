import type { MessageFilter, MessageRow, Page } from '../types.ts';
import type { Db } from './db.ts';
import { messageMatch, timeWindow } from './filters.ts';
import { Params, paged } from './page.ts';
import { messageFromRow } from './rows.ts';
import { CREATE_MESSAGE } from './sql/create-message.ts';
import { ENQUEUE_ONE } from './sql/enqueue-one.ts';
import { RECOVER_ENDPOINT } from './sql/recover-endpoint.ts';
import { REPLAY_MISSING } from './sql/replay-missing.ts';

export interface Created {
  message: MessageRow;
  created: boolean;
  deliveries: number;
}

export async function createMessage(
  db: Db,
  given: MessageRow,
  opts: { deliverAt?: number; fanOut?: boolean; payloadExpiresAt?: number },
): Promise<Created> {
  const msg = opts.deliverAt === undefined ? given : { ...given, deliverAt: opts.deliverAt };
  const r = await db.row(CREATE_MESSAGE, [
    msg.id,
    msg.appId,
    msg.eventType,
    msg.eventId,
    msg.channels,
    msg.tags,
    msg.payload,
    msg.createdAt,
    opts.payloadExpiresAt ?? null,
    opts.deliverAt ?? null,
    opts.deliverAt ?? msg.createdAt,
    opts.fanOut ?? true,
  ]);
  if (r?.created === 1) return { message: msg, created: true, deliveries: r.deliveries as number };
  if (r?.id != null) return { message: messageFromRow(r), created: false, deliveries: 0 };
  // The same eventId committed by another request while this one ran: that message is the answer.
  const stored = await db.row('SELECT * FROM messages WHERE app_id = $1 AND event_id = $2', [msg.appId, msg.eventId]);
  if (!stored) throw new Error('a message with this eventId was neither stored nor found');
  return { message: messageFromRow(stored), created: false, deliveries: 0 };
}

/** By id, else by eventId, within the application. */
export async function getMessage(db: Db, appId: string, idOrEventId: string): Promise<MessageRow | undefined> {
  const r = await db.row(
    'SELECT * FROM messages WHERE app_id = $1 AND (id = $2 OR event_id = $2) ORDER BY id = $2 DESC LIMIT 1',
    [appId, idOrEventId],
  );
  return r ? messageFromRow(r) : undefined;
}

export function listMessages(db: Db, appId: string, f: MessageFilter): Promise<Page<MessageRow>> {
  const p = new Params();
  const where = `app_id = ${p.add(appId)}${messageMatch(f, p, 'messages')}${timeWindow(f, p)}`;
  return paged(db, { from: 'messages', where, params: p, page: f, defaultOrder: 'descending', map: messageFromRow });
}

export async function enqueueDelivery(
  db: Db,
  msgId: string,
  endpointId: string,
  now: number,
  triggerType: number,
): Promise<void> {
  await db.query(ENQUEUE_ONE, [msgId, endpointId, now, triggerType]);
}

export function recoverEndpoint(db: Db, endpointId: string, since: number, until: number, now: number) {
  return db.changes(RECOVER_ENDPOINT, [endpointId, since, until, now]);
}

export function replayMissing(db: Db, endpointId: string, since: number, until: number, now: number) {
  return db.changes(REPLAY_MISSING, [endpointId, since, until, now]);
}
