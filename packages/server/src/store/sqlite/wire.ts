import { HookwardenError } from '@hookwarden/verify/errors';
import { ServerError } from '../../errors.ts';
import { isStorageFaultCode, StorageFault } from '../faults.ts';
import type { AttemptTls, ClaimedDelivery, EndpointRow, MessageRow, Outcome, StatusCode } from '../types.ts';

/*
 * Compact forms of the two store calls made for every delivery, as they cross the store thread's
 * boundary. Structured clone rebuilds objects property by property: measured (node:v8 serialize /
 * deserialize, 64-row claims, 86-outcome batches), a claimed row cost the main thread 1.3 µs to
 * deserialize and an outcome 0.7 µs to serialize; as flat arrays of primitives, 0.3 and 0.4 µs.
 * Shared objects (a claim's endpoints and messages, an outcome batch's TLS records) travel once
 * each and are referenced by index, as structured clone would share them.
 */

/**
 * Values per claimed row: id, attempts, triggerType, message index, endpoint index, rate limit, and
 * the presigned signature's timestamp, until and value (null when there is none).
 */
const ROW = 9;
/** Values per message: id, appId, eventType, eventId, channels, tags, payload, createdAt. */
const MESSAGE = 8;
/** Values per outcome, see packOutcomes. */
const OUTCOME = 17;

export interface PackedClaim {
  rows: (number | string | null)[];
  messages: unknown[];
  endpoints: EndpointRow[];
}

export function packClaim(claimed: readonly ClaimedDelivery[]): PackedClaim {
  const rows: PackedClaim['rows'] = [];
  const messages: unknown[] = [];
  const endpoints: EndpointRow[] = [];
  const messageIndex = new Map<MessageRow, number>();
  const endpointIndex = new Map<EndpointRow, number>();
  for (const d of claimed) {
    let m = messageIndex.get(d.message);
    if (m === undefined) {
      m = messageIndex.size;
      messageIndex.set(d.message, m);
      const msg = d.message;
      messages.push(msg.id, msg.appId, msg.eventType, msg.eventId, msg.channels, msg.tags, msg.payload, msg.createdAt);
    }
    let e = endpointIndex.get(d.endpoint);
    if (e === undefined) {
      e = endpoints.length;
      endpointIndex.set(d.endpoint, e);
      endpoints.push(d.endpoint);
    }
    const p = d.presigned;
    rows.push(
      d.id,
      d.attempts,
      d.triggerType,
      m,
      e,
      d.rateLimit,
      p?.timestamp ?? null,
      p?.until ?? null,
      p?.value ?? null,
    );
  }
  return { rows, messages, endpoints };
}

export function unpackClaim(p: PackedClaim): ClaimedDelivery[] {
  const f = p.messages;
  const messages: MessageRow[] = [];
  for (let i = 0; i < f.length; i += MESSAGE) {
    messages.push({
      id: f[i] as string,
      appId: f[i + 1] as string,
      eventType: f[i + 2] as string,
      eventId: f[i + 3] as string | null,
      channels: f[i + 4] as string[] | null,
      tags: f[i + 5] as string[] | null,
      payload: f[i + 6] as string,
      createdAt: f[i + 7] as number,
    });
  }
  const r = p.rows;
  const out: ClaimedDelivery[] = [];
  for (let i = 0; i < r.length; i += ROW) {
    const d: ClaimedDelivery = {
      id: r[i] as number,
      attempts: r[i + 1] as number,
      triggerType: r[i + 2] as number,
      message: messages[r[i + 3] as number] as MessageRow,
      endpoint: p.endpoints[r[i + 4] as number] as EndpointRow,
      rateLimit: r[i + 5] as number | null,
    };
    if (r[i + 8] !== null) {
      d.presigned = { timestamp: r[i + 6] as number, until: r[i + 7] as number, value: r[i + 8] as string };
    }
    out.push(d);
  }
  return out;
}

export interface PackedOutcomes {
  values: unknown[];
  tls: AttemptTls[];
}

export function packOutcomes(outcomes: readonly Outcome[]): PackedOutcomes {
  const values: unknown[] = [];
  const tls: AttemptTls[] = [];
  const tlsIndex = new Map<AttemptTls, number>();
  for (const o of outcomes) {
    const a = o.attempt;
    let t = -1;
    if (a.tls) {
      t = tlsIndex.get(a.tls) ?? -1;
      if (t === -1) {
        t = tls.length;
        tlsIndex.set(a.tls, t);
        tls.push(a.tls);
      }
    }
    values.push(
      o.deliveryId,
      o.nextAttemptAt ?? null,
      o.disableEndpoint ?? null,
      a.id,
      a.msgId,
      a.endpointId,
      a.appId,
      a.url,
      a.status,
      a.statusCode,
      a.response,
      a.durationMs,
      a.failureKind,
      a.failureMessage,
      t,
      a.triggerType,
      a.createdAt,
    );
  }
  return { values, tls };
}

export function unpackOutcomes(p: PackedOutcomes): Outcome[] {
  const v = p.values;
  const out: Outcome[] = [];
  for (let i = 0; i < v.length; i += OUTCOME) {
    const o: Outcome = {
      deliveryId: v[i] as number,
      attempt: {
        id: v[i + 3] as string,
        msgId: v[i + 4] as string,
        endpointId: v[i + 5] as string,
        appId: v[i + 6] as string,
        url: v[i + 7] as string,
        status: v[i + 8] as StatusCode,
        statusCode: v[i + 9] as number,
        response: v[i + 10] as string,
        durationMs: v[i + 11] as number,
        failureKind: v[i + 12] as string | null,
        failureMessage: v[i + 13] as string | null,
        tls: (v[i + 14] as number) === -1 ? null : (p.tls[v[i + 14] as number] as AttemptTls),
        triggerType: v[i + 15] as number,
        createdAt: v[i + 16] as number,
      },
    };
    if (v[i + 1] !== null) o.nextAttemptAt = v[i + 1] as number;
    if (v[i + 2] !== null) o.disableEndpoint = v[i + 2] as boolean;
    out.push(o);
  }
  return out;
}

/**
 * A failure as it crosses the store thread's boundary: structured clone keeps no class, so what
 * rebuilds it travels. `ours`: a HookwardenError (its code and status are kept); `reason`: a
 * storage fault's driver words (faults.ts), rebuilt as a StorageFault on the other side.
 */
export interface PackedError {
  ours: boolean;
  code?: string;
  status?: number;
  reason?: string;
  message: string;
}

export function packError(err: unknown): PackedError {
  const e = err as { code?: unknown; message?: unknown; status?: unknown } | null;
  const packed: PackedError = { ours: err instanceof HookwardenError, message: String(e?.message ?? err) };
  if (typeof e?.code === 'string') packed.code = e.code;
  if (typeof e?.status === 'number') packed.status = e.status;
  if (err instanceof StorageFault) packed.reason = err.reason;
  return packed;
}

export function unpackError(p: PackedError): Error {
  if (p.reason !== undefined && isStorageFaultCode(p.code)) return new StorageFault(p.code, p.reason);
  if (p.ours && p.code) return new ServerError(p.code, p.message, p.status === undefined ? {} : { status: p.status });
  return Object.assign(new Error(p.message), p.code ? { code: p.code } : {});
}
