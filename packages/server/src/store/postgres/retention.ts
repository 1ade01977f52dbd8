import type { Db } from './db.ts';
import { DELETE_EXPIRED } from './sql/delete-expired.ts';
import { EXPUNGE_APPLICATION } from './sql/expunge-application.ts';
import { EXPUNGE_EXPIRED } from './sql/expunge-expired.ts';
import { EXPUNGE_MESSAGE } from './sql/expunge-message.ts';

export async function expungeMessage(db: Db, appId: string, msgId: string, now: number): Promise<boolean> {
  const r = await db.row(EXPUNGE_MESSAGE, [appId, msgId, now, `"id":${JSON.stringify(msgId)}`]);
  return (r?.found as number) > 0;
}

export async function expungeExpiredPayloads(db: Db, now: number, limit: number): Promise<number> {
  return (await db.row(EXPUNGE_EXPIRED, [now, limit]))?.expunged as number;
}

export async function expungeApplicationPayloads(
  db: Db,
  appId: string,
  afterId: string | null,
  limit: number,
  now: number,
): Promise<string | null> {
  return ((await db.row(EXPUNGE_APPLICATION, [appId, afterId ?? '', limit, now]))?.last as string | null) ?? null;
}

export async function deleteExpiredRecords(db: Db, now: number, limit: number): Promise<number> {
  return (await db.row(DELETE_EXPIRED, [now, limit]))?.deleted as number;
}

export async function expungeAttemptResponse(db: Db, appId: string, msgId: string, attemptId: string) {
  const n = await db.changes("UPDATE attempts SET response = '' WHERE app_id = $1 AND msg_id = $2 AND id = $3", [
    appId,
    msgId,
    attemptId,
  ]);
  return n > 0;
}
