import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { idFloor, newId } from '../../src/ids.ts';
import type {
  EndpointMessageFilter,
  EndpointRow,
  MessageRow,
  NewEndpoint,
  NewEventType,
  Store,
  TaskFilter,
  TaskRow,
} from '../../src/store/types.ts';
import { Status } from '../../src/store/types.ts';
import { newEndpoint, newMessage } from './fixtures.ts';

/**
 * The behaviour every Store must have. Each backend's test file calls this with a factory, which
 * makes a fresh, empty store for every test.
 */
export function storeConformance(name: string, factory: () => Promise<{ store: Store; cleanup: () => Promise<void> }>) {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const T0 = 1_700_000_000_000;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const app = async (uid: string | null = null) =>
      store.createApplication({ id: newId('app'), uid, name: 'n', metadata: {}, rateLimit: null }, T0);

    const endpoint = async (appId: string, over: Partial<NewEndpoint> = {}): Promise<EndpointRow> =>
      store.createEndpoint(newEndpoint(appId, newId('ep'), over), T0);

    const eventType = (name: string, over: Partial<NewEventType> = {}): NewEventType => ({
      name,
      description: '',
      archived: false,
      deprecated: false,
      groupName: null,
      schemas: null,
      featureFlags: null,
      ...over,
    });

    const message = (appId: string, over: Partial<MessageRow> = {}): MessageRow => newMessage(appId, T0, over);

    test('applications: create, get by id and uid, conflict on uid, update, delete', async () => {
      const a = await app('uid-a');
      assert.deepEqual(await store.getApplication(a.id), a);
      assert.deepEqual(await store.getApplication('uid-a'), a);
      await assert.rejects(app('uid-a'), { code: 'HW_CONFLICT', status: 409 });
      const updated = await store.updateApplication({ ...a, name: 'renamed' }, T0 + 1);
      assert.equal((await store.getApplication(a.id))?.name, 'renamed');
      assert.equal(updated.updatedAt, T0 + 1);
      assert.equal(await store.deleteApplication(a.id), true);
      assert.equal(await store.getApplication(a.id), undefined);
      assert.equal(await store.deleteApplication(a.id), false);
    });

    test('pagination walks every row once, forwards and back', async () => {
      const a = await app();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await endpoint(a.id)).id);
      const seen: string[] = [];
      let iterator: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await store.listEndpoints(a.id, { limit: 3, iterator });
        seen.push(...page.data.map((e) => e.id));
        pages++;
        if (page.done) break;
        iterator = page.iterator;
        assert.ok(pages < 10);
      }
      assert.deepEqual(seen, ids);
      const second = await store.listEndpoints(a.id, { limit: 3, iterator: ids[2] });
      assert.deepEqual(
        second.data.map((e) => e.id),
        ids.slice(3, 6),
      );
      const back = await store.listEndpoints(a.id, { limit: 3, iterator: second.prevIterator });
      assert.deepEqual(
        back.data.map((e) => e.id),
        ids.slice(0, 3),
      );
      const desc = await store.listEndpoints(a.id, { limit: 2, order: 'descending' });
      assert.deepEqual(
        desc.data.map((e) => e.id),
        [ids[6], ids[5]],
      );
    });

    test('fan-out follows event-type and channel filters, in the message transaction', async () => {
      const a = await app();
      const all = await endpoint(a.id);
      const typed = await endpoint(a.id, { filterTypes: ['invoice.paid'] });
      const channelled = await endpoint(a.id, { channels: ['eu'] });
      await endpoint(a.id, { disabled: true });
      const r1 = await store.createMessage(message(a.id, { eventType: 'user.created' }), {});
      assert.equal(r1.deliveries, 1);
      const r2 = await store.createMessage(message(a.id, { eventType: 'invoice.paid', channels: ['eu'] }), {});
      assert.equal(r2.deliveries, 3);
      const claimed = await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 });
      const pairs = claimed.filter((c) => c.message.appId === a.id).map((c) => `${c.message.id}>${c.endpoint.id}`);
      assert.deepEqual(
        pairs.sort(),
        [
          `${r1.message.id}>${all.id}`,
          `${r2.message.id}>${all.id}`,
          `${r2.message.id}>${typed.id}`,
          `${r2.message.id}>${channelled.id}`,
        ].sort(),
      );
      await store.recordOutcomes(
        claimed.map((c) => ({ deliveryId: c.id, attempt: attemptFor(c.message, c.endpoint, 0) })),
        T0,
      );
    });

    test("a claimed row's rate limit is its endpoint's own, else its application's, else none", async () => {
      const limited = await store.createApplication(
        { id: newId('app'), uid: null, name: 'n', metadata: {}, rateLimit: 7 },
        T0,
      );
      const inherits = await endpoint(limited.id);
      const overrides = await endpoint(limited.id, { rateLimit: 50 });
      const free = await app();
      const unlimited = await endpoint(free.id);
      await store.createMessage(message(limited.id), {});
      await store.createMessage(message(free.id), {});
      const claimed = await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 });
      const rates = Object.fromEntries(claimed.map((c) => [c.endpoint.id, c.rateLimit]));
      assert.deepEqual(rates, { [inherits.id]: 7, [overrides.id]: 50, [unlimited.id]: null });
      // The endpoint row itself still says what was set on it.
      assert.equal(claimed.find((c) => c.endpoint.id === inherits.id)?.endpoint.rateLimit, null);
      await store.recordOutcomes(
        claimed.map((c) => ({ deliveryId: c.id, attempt: attemptFor(c.message, c.endpoint, 0) })),
        T0,
      );
    });

    test("a precheck says whether a message would go to any endpoint, by the fan-out's own match", async () => {
      const a = await app();
      assert.equal(await store.hasActiveEndpoint(a.id, 'invoice.paid', null), false);
      await endpoint(a.id, { filterTypes: ['invoice.paid'], channels: ['eu'] });
      await endpoint(a.id, { disabled: true });
      const cases: [string, string[] | null, boolean][] = [
        ['invoice.paid', ['eu'], true],
        ['invoice.paid', ['us', 'eu'], true],
        ['invoice.paid', ['us'], false],
        ['invoice.paid', null, false],
        ['user.created', ['eu'], false],
      ];
      for (const [type, channels, active] of cases) {
        assert.equal(await store.hasActiveEndpoint(a.id, type, channels), active, `${type} ${channels}`);
        // The same answer as the fan-out itself gives.
        const { deliveries } = await store.createMessage(message(a.id, { eventType: type, channels }), {});
        assert.equal(deliveries > 0, active, `fan-out of ${type} ${channels}`);
      }
      await endpoint(a.id);
      assert.equal(await store.hasActiveEndpoint(a.id, 'user.created', null), true);
    });

    test('bulk replay resends what an endpoint was sent, by time, message filters, status and status-code class', async () => {
      const a = await app();
      const ep = await endpoint(a.id);
      const at = (k: number) => T0 + k;
      const make = async (k: number, over: Partial<MessageRow> = {}) =>
        (await store.createMessage(message(a.id, { createdAt: at(k), ...over }), {})).message;
      const [old, ok, failed, unreachable, typed, gone] = [
        await make(-500),
        await make(1),
        await make(2),
        await make(3),
        await make(4, { eventType: 'invoice.paid' }),
        await make(5),
      ];
      const claimed = (await store.claimDeliveries({ workerId: 'w', now: at(10), leaseMs: 1000, limit: 100 })).filter(
        (c) => c.message.appId === a.id,
      );
      assert.equal(claimed.length, 6);
      const outcome = (m: MessageRow, status: 0 | 2, statusCode?: number) => {
        const c = claimed.find((x) => x.message.id === m.id) as { id: number };
        const attempt = attemptFor(m, ep, status);
        return { deliveryId: c.id, attempt: statusCode === undefined ? attempt : { ...attempt, statusCode } };
      };
      await store.recordOutcomes(
        [
          outcome(old, 0),
          outcome(ok, 0),
          outcome(failed, 2),
          outcome(unreachable, 2, 0),
          outcome(typed, 0),
          outcome(gone, 0),
        ],
        at(11),
      );
      const pending = await make(20); // never attempted
      await store.expungeMessage(a.id, gone.id, at(21));
      const window = { since: at(0), until: at(1000) };
      const replay = (f: Partial<Parameters<Store['bulkReplay']>[1]>, now: number) =>
        store.bulkReplay(ep.id, { ...window, ...f }, now);
      const latest = async (m: MessageRow) =>
        (await store.listMessageDestinations(a.id, m.id, { limit: 10 }, at(100))).data[0]?.status;

      // Each replay makes a new latest delivery (pending) of what it matched.
      assert.equal(await replay({ status: Status.fail, statusCodeClass: 500 }, at(30)), 1);
      assert.equal(await latest(failed), Status.pending);
      assert.equal(await latest(unreachable), Status.fail);
      // Class 0: no HTTP status (a connection failure) or never attempted.
      assert.equal(await replay({ statusCodeClass: 0 }, at(31)), 2);
      assert.equal(await latest(pending), Status.pending);
      assert.equal(await replay({ eventTypes: ['invoice.paid'] }, at(32)), 1);
      assert.equal(await replay({ status: Status.success }, at(33)), 1);
      assert.equal(await latest(ok), Status.pending);
      // Everything in the window but the expunged one; a wider window takes the old one too.
      assert.equal(await replay({}, at(34)), 5);
      assert.equal(await replay({ since: at(-1000) }, at(35)), 6);
      assert.equal(await latest(gone), Status.success);
    });

    test("an application's payloads are expunged in id order, a batch at a time, and no other's", async () => {
      const a = await app();
      const b = await app();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.createMessage(message(a.id), {})).message.id);
      const theirs = (await store.createMessage(message(b.id), {})).message;
      const first = await store.expungeApplicationPayloads(a.id, null, 2, T0 + 1);
      assert.equal(first, ids[1]);
      assert.equal((await store.getMessage(a.id, ids[2] as string))?.payload, message(a.id).payload);
      assert.equal(await store.expungeApplicationPayloads(a.id, first, 2, T0 + 1), ids[3]);
      assert.equal(await store.expungeApplicationPayloads(a.id, ids[3] as string, 2, T0 + 1), ids[4]);
      assert.equal(await store.expungeApplicationPayloads(a.id, ids[4] as string, 2, T0 + 1), null);
      for (const id of ids) assert.equal((await store.getMessage(a.id, id))?.payload, '{}');
      assert.equal((await store.getMessage(b.id, theirs.id))?.payload, message(b.id).payload);
    });

    test('expired idempotency replies and tokens are deleted; expunging a message empties the reply that held it', async () => {
      const a = await app();
      await store.putIdempotent('s', 'old', 202, '{}', T0 + 10);
      await store.putIdempotent('s', 'new', 202, '{}', T0 + 1000);
      await store.createToken('t-old', a.id, T0 + 10);
      await store.createToken('t-forever', a.id, null);
      assert.equal(await store.deleteExpiredRecords(T0 + 9, 100), 0);
      assert.equal(await store.deleteExpiredRecords(T0 + 10, 100), 2);
      assert.equal(await store.deleteExpiredRecords(T0 + 10, 100), 0);
      assert.ok(await store.getIdempotent('s', 'new', T0 + 10));
      assert.ok(await store.findToken('t-forever', T0 + 10));

      const { message: m } = await store.createMessage(message(a.id, { payload: '{"pan":"4242"}' }), {});
      const reply = JSON.stringify({ eventType: m.eventType, payload: JSON.parse(m.payload), id: m.id });
      await store.putIdempotent(`admin /api/v1/app/${a.id}/msg`, 'k1', 202, reply, T0 + 1000);
      await store.putIdempotent('s', 'other', 202, JSON.stringify({ id: 'msg_other', msgId: m.id }), T0 + 1000);
      await store.expungeMessage(a.id, m.id, T0 + 11);
      // A retried POST still gets its answer, without the payload; other replies are untouched.
      const kept = await store.getIdempotent(`admin /api/v1/app/${a.id}/msg`, 'k1', T0 + 11);
      assert.deepEqual(JSON.parse(kept?.body ?? 'null'), { eventType: m.eventType, payload: {}, id: m.id });
      assert.deepEqual(JSON.parse((await store.getIdempotent('s', 'other', T0 + 11))?.body ?? 'null'), {
        id: 'msg_other',
        msgId: m.id,
      });
    });

    test('background tasks: kept, found, listed newest first with filters, expired and deleted with their application', async () => {
      const a = await app();
      const b = await app();
      const task = (appId: string, i: number, kind: TaskRow['task'], status: TaskRow['status'] = 'finished') => ({
        id: newId('qtask', T0 + i),
        appId,
        task: kind,
        status,
        data: { messages: i },
        updatedAt: T0 + i,
      });
      const tasks = [
        task(a.id, 1, 'endpoint.recover'),
        task(a.id, 2, 'endpoint.replay'),
        task(b.id, 3, 'endpoint.recover', 'running'),
        task(a.id, 4, 'application.purge_content'),
      ];
      for (const [i, t] of tasks.entries()) await store.putTask(t, T0 + 100 + i);
      assert.deepEqual(await store.getTask(tasks[1]!.id), tasks[1]);
      assert.equal(await store.getTask('qtask_missing'), undefined);
      // Updating a task (running → finished) keeps one record.
      const done = { ...tasks[2]!, status: 'finished' as const, data: { messages: 9 }, updatedAt: T0 + 5 };
      await store.putTask(done, T0 + 102);
      assert.deepEqual(await store.getTask(done.id), done);

      const ids = async (f: Partial<TaskFilter>) => (await store.listTasks({ limit: 10, ...f })).data.map((t) => t.id);
      const [t1, t2, t3, t4] = tasks.map((t) => t.id);
      assert.deepEqual(await ids({}), [t4, t3, t2, t1]);
      assert.deepEqual(await ids({ order: 'ascending' }), [t1, t2, t3, t4]);
      assert.deepEqual(await ids({ appId: a.id }), [t4, t2, t1]);
      assert.deepEqual(await ids({ task: 'endpoint.recover' }), [t3, t1]);
      assert.deepEqual(await ids({ appId: a.id, task: 'endpoint.recover' }), [t1]);
      assert.deepEqual(await ids({ status: 'running' }), []);
      const first = await store.listTasks({ limit: 2 });
      assert.equal(first.done, false);
      assert.deepEqual(await ids({ limit: 2, iterator: first.iterator }), [t2, t1]);

      // Expired by the third's expiry: the first three go.
      assert.equal(await store.deleteExpiredRecords(T0 + 102, 100), 3);
      assert.deepEqual(await ids({}), [t4]);
      await store.deleteApplication(a.id);
      assert.equal(await store.getTask(t4 as string), undefined);
    });

    test('message destinations are counted per application over the messages of a window', async () => {
      const a = await app();
      const other = await app();
      await endpoint(a.id);
      await endpoint(a.id);
      await endpoint(other.id);
      // Ids as newId makes them at T0 + ms (newId itself never goes back to a past instant).
      const at = (appId: string, ms: number) =>
        message(appId, { id: `${idFloor('msg', T0 + ms)}${String(ms).padStart(16, '0')}`, createdAt: T0 + ms });
      for (const ms of [10, 20, 30]) await store.createMessage(at(a.id, ms), {});
      await store.createMessage(at(other.id, 21), {});
      // Two endpoints each: [10, 30) holds two messages, four deliveries.
      assert.equal(await store.countMessageDestinations(a.id, T0 + 10, T0 + 30), 4);
      assert.equal(await store.countMessageDestinations(a.id, T0, T0 + 31), 6);
      assert.equal(await store.countMessageDestinations(a.id, T0 + 31, T0 + 100), 0);
      assert.equal(await store.countMessageDestinations(other.id, T0, T0 + 100), 1);
    });

    test('payloads past their retention are expunged oldest first, in batches', async () => {
      const a = await app();
      await endpoint(a.id);
      const make = async (payloadExpiresAt?: number) =>
        (await store.createMessage(message(a.id), payloadExpiresAt === undefined ? {} : { payloadExpiresAt })).message;
      const soon = await make(T0 + 10);
      const later = await make(T0 + 20);
      const kept = await make();
      const payload = async (id: string) => (await store.getMessage(a.id, id))?.payload;
      assert.equal(await store.expungeExpiredPayloads(T0 + 9, 10), 0);
      assert.equal(await store.expungeExpiredPayloads(T0 + 15, 10), 1);
      assert.deepEqual([await payload(soon.id), await payload(later.id)], ['{}', message(a.id).payload]);
      // Its waiting delivery ended with it; the others' still wait.
      const due = await store.claimDeliveries({ workerId: 'w', now: T0 + 30, leaseMs: 1, limit: 100 });
      assert.deepEqual(
        due
          .filter((c) => c.message.appId === a.id)
          .map((c) => c.message.id)
          .sort(),
        [later.id, kept.id].sort(),
      );
      assert.equal(await store.expungeExpiredPayloads(T0 + 15, 10), 0);
      assert.equal(await store.expungeExpiredPayloads(Number.MAX_SAFE_INTEGER, 1), 1);
      assert.equal(await store.expungeExpiredPayloads(Number.MAX_SAFE_INTEGER, 1), 0);
      assert.equal(await payload(kept.id), message(a.id).payload);
    });

    test('an expunged message keeps no payload and is never sent again, even by a retry in flight', async () => {
      const a = await app();
      const first = await endpoint(a.id);
      const second = await endpoint(a.id);
      const { message: m } = await store.createMessage(message(a.id, { payload: '{"card":"4242"}' }), {});
      const { message: other } = await store.createMessage(message(a.id), {});
      const statuses = async (now: number) =>
        (await store.listMessageDestinations(a.id, m.id, { limit: 10 }, now)).data.map((d) => d.status).sort();
      // One delivery of m is in flight when its payload is deleted; the other still waits.
      const inFlight = await store.claimDeliveries({
        workerId: 'w',
        now: T0,
        leaseMs: 1000,
        limit: 1,
        perEndpointLimit: 1,
        inFlight: new Map([[second.id, 1]]),
      });
      assert.deepEqual(
        inFlight.map((c) => [c.message.id, c.endpoint.id]),
        [[m.id, first.id]],
      );
      assert.equal(await store.expungeMessage(a.id, m.id, T0 + 1), true);
      assert.equal(await store.expungeMessage(a.id, 'msg_missing', T0 + 1), false);
      const gone = await store.getMessage(a.id, m.id);
      assert.equal(gone?.payload, '{}');
      assert.equal(gone?.expungedAt, T0 + 1);
      // The waiting one ended at once; the one in flight fails and asks for a retry...
      assert.deepEqual(await statuses(T0 + 2), [Status.fail, Status.sending]);
      const attempt = attemptFor(m, first, 2);
      await store.recordOutcomes(
        [{ deliveryId: (inFlight[0] as { id: number }).id, attempt, nextAttemptAt: T0 + 5 }],
        T0 + 2,
      );
      // ...which is ended when it comes due, never handed out; the other message is untouched.
      const later = await store.claimDeliveries({ workerId: 'w', now: T0 + 10, leaseMs: 1000, limit: 100 });
      assert.deepEqual(
        later.filter((c) => c.message.appId === a.id).map((c) => c.message.id),
        [other.id, other.id],
      );
      assert.deepEqual(await statuses(T0 + 11), [Status.fail, Status.fail]);
      await store.recordOutcomes(
        later.map((c) => ({ deliveryId: c.id, attempt: attemptFor(c.message, c.endpoint, 0) })),
        T0 + 11,
      );
      // What the receiver answered to an attempt can be deleted too.
      assert.equal(await store.expungeAttemptResponse(a.id, m.id, attempt.id), true);
      assert.equal((await store.getAttempt(a.id, m.id, attempt.id))?.response, '');
      assert.equal(await store.expungeAttemptResponse(a.id, m.id, 'atmpt_missing'), false);
    });

    test("a message's destinations and an endpoint's stats follow its deliveries", async () => {
      const a = await app();
      const first = await endpoint(a.id);
      const second = await endpoint(a.id);
      await endpoint(a.id, { filterTypes: ['invoice.paid'] }); // not a destination of this message
      const { message: m } = await store.createMessage(message(a.id), {});
      const view = async (now: number) =>
        (await store.listMessageDestinations(a.id, m.id, { limit: 10 }, now)).data
          .map((d) => `${d.endpoint.id}:${d.status}:${d.nextAttemptAt}`)
          .sort();
      assert.deepEqual(await view(T0), [`${first.id}:1:${T0}`, `${second.id}:1:${T0}`].sort());

      // Held by a dispatcher: sending, until the lease ends.
      const claimed = (await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 })).filter(
        (c) => c.message.id === m.id,
      );
      assert.equal(claimed.length, 2);
      assert.deepEqual(await view(T0 + 1), [`${first.id}:3:null`, `${second.id}:3:null`].sort());
      assert.deepEqual(await store.endpointStats(first.id, {}, T0 + 1), {
        success: 0,
        pending: 0,
        sending: 1,
        fail: 0,
        canceled: 0,
      });
      // All time (read from the queue index alone) agrees with the widest window (read from rows).
      const widest = { since: 0, until: Number.MAX_SAFE_INTEGER };
      for (const e of [first, second]) {
        for (const now of [T0 + 1, T0 + 2_000]) {
          assert.deepEqual(await store.endpointStats(e.id, {}, now), await store.endpointStats(e.id, widest, now));
        }
      }

      // One succeeds; the other fails and waits for its retry.
      const [toFirst, toSecond] = [first, second].map((e) => claimed.find((c) => c.endpoint.id === e.id));
      assert.ok(toFirst && toSecond);
      await store.recordOutcomes(
        [
          { deliveryId: toFirst.id, attempt: attemptFor(m, first, 0) },
          { deliveryId: toSecond.id, attempt: attemptFor(m, second, 2), nextAttemptAt: T0 + 5000 },
        ],
        T0 + 2,
      );
      assert.deepEqual(await view(T0 + 3), [`${first.id}:0:null`, `${second.id}:1:${T0 + 5000}`].sort());
      assert.deepEqual(await store.endpointStats(first.id, {}, T0 + 3), {
        success: 1,
        pending: 0,
        sending: 0,
        fail: 0,
        canceled: 0,
      });
      assert.equal((await store.endpointStats(second.id, {}, T0 + 3)).pending, 1);
      // The window is on the message's creation: none after it.
      assert.equal((await store.endpointStats(second.id, { since: T0 + 1 }, T0 + 3)).pending, 0);

      // A resend adds a delivery: the destination shows the latest, once.
      await store.enqueueDelivery(m.id, first.id, T0 + 4, 1);
      assert.deepEqual(await view(T0 + 5), [`${first.id}:1:${T0 + 4}`, `${second.id}:1:${T0 + 5000}`].sort());

      // Pages of one, by endpoint id; another application sees nothing.
      const p1 = await store.listMessageDestinations(a.id, m.id, { limit: 1 }, T0 + 5);
      const p2 = await store.listMessageDestinations(a.id, m.id, { limit: 1, iterator: p1.iterator }, T0 + 5);
      assert.deepEqual(
        [...p1.data, ...p2.data].map((d) => d.endpoint.id),
        [first.id, second.id].sort(),
      );
      assert.equal(p2.done, true);
      const other = await app();
      assert.deepEqual((await store.listMessageDestinations(other.id, m.id, { limit: 10 }, T0)).data, []);
    });

    test("an endpoint's messages, newest first, with their status and the message filters", async () => {
      const a = await app();
      const ep = await endpoint(a.id);
      const other = await endpoint(a.id);
      const m1 = (await store.createMessage(message(a.id, { tags: ['vip'] }), {})).message;
      const m2 = (await store.createMessage(message(a.id, { eventType: 'invoice.paid', channels: ['eu'] }), {}))
        .message;
      const claimed = (await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 })).filter(
        (c) => c.endpoint.id === ep.id || c.endpoint.id === other.id,
      );
      const toEp = claimed.filter((c) => c.endpoint.id === ep.id);
      const first = toEp.find((c) => c.message.id === m1.id);
      assert.ok(first);
      await store.recordOutcomes([{ deliveryId: first.id, attempt: attemptFor(m1, ep, 0) }], T0 + 1);
      const list = async (f: Partial<EndpointMessageFilter> = {}, now = T0 + 2) =>
        (await store.listEndpointMessages(a.id, ep.id, { limit: 10, ...f }, now)).data.map(
          (x) => `${x.message.id}:${x.status}`,
        );
      // m2 is still held by the dispatcher (sending); m1 succeeded. Newest first.
      assert.deepEqual(await list(), [`${m2.id}:3`, `${m1.id}:0`]);
      assert.deepEqual(await list({ status: 0 }), [`${m1.id}:0`]);
      assert.deepEqual(await list({ tag: 'vip' }), [`${m1.id}:0`]);
      assert.deepEqual(await list({ channel: 'eu' }), [`${m2.id}:3`]);
      assert.deepEqual(await list({ eventTypes: ['invoice.paid'] }), [`${m2.id}:3`]);
      // Once the lease has ended, the held delivery is pending again.
      assert.deepEqual(await list({}, T0 + 5000), [`${m2.id}:1`, `${m1.id}:0`]);
      // The message list filters by tag too.
      assert.deepEqual(
        (await store.listMessages(a.id, { limit: 10, tag: 'vip' })).data.map((m) => m.id),
        [m1.id],
      );
    });

    test('replay-missing enqueues, once, the messages an endpoint never got that its filters match', async () => {
      const a = await app();
      const before = await store.createMessage(message(a.id, { createdAt: T0 - 10 }), {});
      // Not replayed: another event type than the endpoint's filter, and a message before the window.
      await store.createMessage(message(a.id, { eventType: 'invoice.paid', createdAt: T0 - 5 }), {});
      await store.createMessage(message(a.id, { createdAt: T0 - 100 }), {});
      // Created after those messages: none of them was sent to it.
      const late = await endpoint(a.id, { filterTypes: ['user.created'] });
      assert.equal(await store.replayMissing(late.id, T0 - 50, T0 + 1, T0), 1);
      assert.equal(await store.replayMissing(late.id, T0 - 50, T0 + 1, T0), 0);
      const claimed = (await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 })).filter(
        (c) => c.endpoint.id === late.id,
      );
      assert.deepEqual(
        claimed.map((c) => [c.message.id, c.triggerType]),
        [[before.message.id, 1]],
      );
    });

    test('a repeated eventId returns the stored message and enqueues nothing', async () => {
      const a = await app();
      await endpoint(a.id);
      const first = await store.createMessage(message(a.id, { eventId: 'evt-1' }), {});
      const again = await store.createMessage(message(a.id, { eventId: 'evt-1', payload: '{"b":2}' }), {});
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.deliveries, 0);
      assert.equal(again.message.id, first.message.id);
      assert.equal((await store.getMessage(a.id, 'evt-1'))?.payload, '{"a":1}');
    });

    test('an outcome whose delivery was deleted in flight is dropped alone; its batch is recorded', async () => {
      const a = await app();
      const gone = await endpoint(a.id);
      const kept = await endpoint(a.id);
      const m = (await store.createMessage(message(a.id), {})).message;
      const claimed = (await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 })).filter(
        (c) => c.message.id === m.id,
      );
      assert.equal(claimed.length, 2);
      // Deleted while its delivery is in flight: the delivery row goes with it.
      assert.equal(await store.deleteEndpoint(a.id, gone.id), true);
      await store.recordOutcomes(
        claimed.map((c) => ({ deliveryId: c.id, attempt: attemptFor(m, c.endpoint, 0) })),
        T0 + 1,
      );
      const attempts = (await store.listAttemptsByMessage(a.id, m.id, { limit: 10 })).data;
      assert.deepEqual(
        attempts.map((x) => x.endpointId),
        [kept.id],
      );
      // The kept endpoint's delivery is complete: not due again once the lease has ended.
      const again = await store.claimDeliveries({ workerId: 'w', now: T0 + 5000, leaseMs: 1000, limit: 100 });
      assert.deepEqual(
        again.filter((c) => c.message.id === m.id),
        [],
      );
    });

    test("a disabled endpoint's rows are never due: a retry in flight ends failed, a resend waits", async () => {
      const a = await app();
      const ep = await endpoint(a.id);
      const m = (await store.createMessage(message(a.id), {})).message;
      const [c] = (await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 })).filter(
        (x) => x.message.id === m.id,
      );
      assert.ok(c);
      // Disabled while the attempt is in flight; the attempt fails and would be retried.
      await store.updateEndpoint({ ...ep, disabled: true }, T0 + 1);
      await store.recordOutcomes([{ deliveryId: c.id, attempt: attemptFor(m, ep, 2), nextAttemptAt: T0 + 5 }], T0 + 2);
      assert.deepEqual(
        { pending: (await store.endpointStats(ep.id, {}, T0 + 10)).pending, due: await store.nextDueAt() },
        { pending: 0, due: undefined },
      );
      assert.equal((await store.endpointStats(ep.id, {}, T0 + 10)).fail, 1);
      // A resend while disabled is kept, but is not due (the dispatcher would ask again at once,
      // forever) and is not the queue's oldest due delivery, until the endpoint is enabled.
      await store.enqueueDelivery(m.id, ep.id, T0 + 20, 2);
      assert.equal(await store.nextDueAt(), undefined);
      assert.deepEqual(await store.queueStats(T0 + 1000), { depth: 1, oldestDueAgeMs: 0 });
      const disabledRow = (await store.getEndpoint(a.id, ep.id)) as EndpointRow;
      await store.updateEndpoint({ ...disabledRow, disabled: false }, T0 + 30);
      assert.equal(await store.nextDueAt(), T0 + 20);
      assert.deepEqual(await store.queueStats(T0 + 1000), { depth: 1, oldestDueAgeMs: 980 });
    });

    test('recover resends a failed message once, and not one a later resend delivered', async () => {
      const a = await app();
      const ep = await endpoint(a.id);
      const fail = async (now: number) => {
        const claimed = await store.claimDeliveries({ workerId: 'w', now, leaseMs: 1000, limit: 100 });
        await store.recordOutcomes(
          claimed.map((c) => ({ deliveryId: c.id, attempt: attemptFor(c.message, c.endpoint, 2) })),
          now,
        );
      };
      const delivered = (await store.createMessage(message(a.id), {})).message;
      const failedTwice = (await store.createMessage(message(a.id), {})).message;
      await fail(T0);
      // A manual resend of each: the first one succeeds, the second fails again.
      await store.enqueueDelivery(delivered.id, ep.id, T0 + 10, 2);
      const [resent] = await store.claimDeliveries({ workerId: 'w', now: T0 + 10, leaseMs: 1000, limit: 100 });
      assert.equal(resent?.message.id, delivered.id);
      await store.recordOutcomes([{ deliveryId: resent.id, attempt: attemptFor(delivered, ep, 0) }], T0 + 10);
      await store.enqueueDelivery(failedTwice.id, ep.id, T0 + 20, 2);
      await fail(T0 + 20);

      assert.equal(await store.recoverEndpoint(ep.id, T0 - 1, T0 + 100, T0 + 200), 1);
      const again = await store.claimDeliveries({ workerId: 'w', now: T0 + 200, leaseMs: 1000, limit: 100 });
      assert.deepEqual(
        again.map((c) => c.message.id),
        [failedTwice.id],
      );
    });

    test("event types page by name both ways, names starting with '-' included", async () => {
      const names = ['-zz-paging-a', '-zz-paging-b', '-zz-paging-c', 'zz-paging-d'];
      for (const name of names) {
        await store.createEventType(eventType(name), T0);
      }
      const ours = (xs: { name: string }[]) => xs.map((t) => t.name).filter((n) => n.includes('zz-paging'));
      const seen: string[] = [];
      let iterator: string | null = null;
      let last: Awaited<ReturnType<Store['listEventTypes']>> | undefined;
      for (let i = 0; i < 100; i++) {
        last = await store.listEventTypes({ limit: 1, iterator });
        seen.push(...last.data.map((t) => t.name));
        if (last.done) break;
        iterator = last.iterator;
      }
      assert.ok(last?.done, 'the walk ends');
      assert.deepEqual(ours(seen.map((name) => ({ name }))), [...names].sort());
      // And back from the last page, one at a time.
      const back: string[] = [];
      let prev = last?.prevIterator ?? null;
      for (let i = 0; i < 100 && prev; i++) {
        const page = await store.listEventTypes({ limit: 1, iterator: prev });
        if (page.data.length === 0) break;
        back.unshift(...page.data.map((t) => t.name));
        prev = page.prevIterator;
      }
      assert.deepEqual(ours(back.map((name) => ({ name }))), [...names].sort().slice(0, -1));
    });

    test("an edit from an earlier read keeps the dispatcher's disable and failure window", async () => {
      const a = await app();
      const ep = await endpoint(a.id);
      const m = (await store.createMessage(message(a.id), {})).message;
      const read = (await store.getEndpoint(a.id, ep.id)) as EndpointRow;
      // Meanwhile the dispatcher records a failure (the failure window opens)...
      const claim = async (now: number) =>
        (await store.claimDeliveries({ workerId: 'w', now, leaseMs: 1000, limit: 100 })).filter(
          (c) => c.message.id === m.id,
        );
      const [first] = await claim(T0);
      await store.recordOutcomes(
        [{ deliveryId: first!.id, attempt: attemptFor(m, ep, 2), nextAttemptAt: T0 + 10 }],
        T0 + 5,
      );
      const edited = await store.updateEndpoint({ ...read, description: 'edited' }, T0 + 6);
      assert.deepEqual([edited.description, edited.failingSince, edited.disabled], ['edited', T0, false]);
      // ...then disables it (a 410), while the API holds an older read.
      const stale = (await store.getEndpoint(a.id, ep.id)) as EndpointRow;
      const [second] = await claim(T0 + 10);
      await store.recordOutcomes(
        [{ deliveryId: second!.id, attempt: attemptFor(m, ep, 2), disableEndpoint: true }],
        T0 + 11,
      );
      const again = await store.updateEndpoint({ ...stale, description: 'again' }, T0 + 12);
      assert.deepEqual([again.description, again.disabled], ['again', true]);
      // Enabling it from a current read works, and starts a fresh failure window.
      const current = (await store.getEndpoint(a.id, ep.id)) as EndpointRow;
      const enabled = await store.updateEndpoint({ ...current, disabled: false }, T0 + 13);
      assert.deepEqual([enabled.disabled, enabled.failingSince], [false, null]);
    });

    test('leases: claimed rows are invisible until the lease ends, then due again', async () => {
      const a = await app();
      await endpoint(a.id);
      await store.createMessage(message(a.id), {});
      const first = await store.claimDeliveries({ workerId: 'w1', now: T0, leaseMs: 30_000, limit: 10 });
      assert.equal(first.length, 1);
      assert.deepEqual(await store.claimDeliveries({ workerId: 'w2', now: T0 + 29_999, leaseMs: 1000, limit: 10 }), []);
      assert.equal(await store.nextDueAt(), T0 + 30_000);
      const again = await store.claimDeliveries({ workerId: 'w2', now: T0 + 30_000, leaseMs: 1000, limit: 10 });
      assert.deepEqual(
        again.map((c) => c.id),
        first.map((c) => c.id),
      );
      assert.equal(await store.releaseAllLeases(T0 + 1000), 1, "a start-up release frees a dead worker's lease");
      assert.equal(
        (await store.claimDeliveries({ workerId: 'w2', now: T0 + 1000, leaseMs: 29_000, limit: 10 })).length,
        1,
      );
      // Graceful release makes it due at once.
      assert.equal(await store.releaseLeases('w2', T0 + 30_001), 1);
      const third = await store.claimDeliveries({ workerId: 'w3', now: T0 + 30_001, leaseMs: 1000, limit: 10 });
      assert.equal(third.length, 1);
      const c = third[0]!;
      await store.recordOutcomes([{ deliveryId: c.id, attempt: attemptFor(c.message, c.endpoint, 0) }], T0 + 30_002);
      assert.equal(await store.nextDueAt(), undefined);
      const attempts = await store.listAttemptsByMessage(a.id, c.message.id, { limit: 10 });
      assert.equal(attempts.data.length, 1);
      assert.equal(attempts.data[0]?.status, 0);
      assert.deepEqual(await store.getAttempt(a.id, c.message.id, attempts.data[0]!.id), attempts.data[0]);
    });

    test('retry, give up, recover; busy endpoints get no more than their quota; disabling fails pending rows', async () => {
      const a = await app();
      const ep = await endpoint(a.id);
      const other = await endpoint(a.id);
      const m = await store.createMessage(message(a.id), {});
      const skipped = await store.claimDeliveries({
        workerId: 'w',
        now: T0,
        leaseMs: 1000,
        limit: 10,
        perEndpointLimit: 1,
        inFlight: new Map([[other.id, 1]]),
      });
      assert.deepEqual(
        skipped.map((c) => c.endpoint.id),
        [ep.id],
      );
      const [c] = skipped;
      await store.recordOutcomes(
        [{ deliveryId: c!.id, attempt: attemptFor(m.message, ep, 2), nextAttemptAt: T0 + 5000 }],
        T0,
      );
      const failing = await store.getEndpoint(a.id, ep.id);
      assert.equal(failing?.failingSince, T0);
      const retry = await store.claimDeliveries({
        workerId: 'w',
        now: T0 + 5000,
        leaseMs: 1000,
        limit: 10,
        perEndpointLimit: 1,
        inFlight: new Map([[other.id, 1]]),
      });
      assert.equal(retry[0]?.attempts, 1);
      await store.recordOutcomes([{ deliveryId: retry[0]!.id, attempt: attemptFor(m.message, ep, 2) }], T0 + 5000);
      assert.equal((await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10, status: 2 })).data.length, 2);
      assert.equal(await store.recoverEndpoint(ep.id, T0 - 1, T0 + 1, T0 + 6000), 1);
      const recovered = await store.claimDeliveries({
        workerId: 'w',
        now: T0 + 6000,
        leaseMs: 1000,
        limit: 10,
        perEndpointLimit: 1,
        inFlight: new Map([[other.id, 1]]),
      });
      assert.equal(recovered.length, 1);
      await store.recordOutcomes([{ deliveryId: recovered[0]!.id, attempt: attemptFor(m.message, ep, 0) }], T0 + 6000);
      assert.equal((await store.getEndpoint(a.id, ep.id))?.failingSince, null);
      await store.updateEndpoint({ ...other, disabled: true }, T0 + 7000);
      assert.deepEqual(await store.claimDeliveries({ workerId: 'w', now: T0 + 7000, leaseMs: 1000, limit: 10 }), []);
      const stats = await store.queueStats(T0 + 7000);
      assert.equal(stats.depth, 0);
    });

    test('per-endpoint limits replace the default one; an endpoint limited to 0 keeps its rows due, attempts untouched', async () => {
      const a = await app();
      const open = await endpoint(a.id);
      const wide = await endpoint(a.id);
      const plain = await endpoint(a.id);
      for (let i = 0; i < 4; i++) await store.createMessage(message(a.id), {});
      const claim = () =>
        store.claimDeliveries({
          workerId: 'w',
          now: T0,
          leaseMs: 1000,
          limit: 100,
          perEndpointLimit: 1,
          inFlight: new Map([[wide.id, 1]]),
          endpointLimits: new Map([
            [open.id, 0],
            [wide.id, 3],
          ]),
        });
      const first = await claim();
      const count = (id: string) => first.filter((c) => c.endpoint.id === id).length;
      assert.deepEqual([count(open.id), count(wide.id), count(plain.id)], [0, 2, 1]);
      const waiting = await store.endpointStats(open.id, {}, T0);
      assert.equal(waiting.pending, 4, "the closed endpoint's rows stay due");
      // Let in again: its rows come with no attempt counted.
      const later = await store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 100 });
      assert.deepEqual(
        later.filter((c) => c.endpoint.id === open.id).map((c) => c.attempts),
        [0, 0, 0, 0],
      );
    });

    test('tokens are found by hash until they expire; idempotency records expire', async () => {
      const a = await app();
      await store.createToken('h1', a.id, T0 + 10);
      assert.deepEqual(await store.findToken('h1', T0), {
        appId: a.id,
        capabilities: null,
        featureFlags: null,
        integration: false,
        expiresAt: T0 + 10,
        sessionId: null,
      });
      assert.equal(await store.findToken('h1', T0 + 10), undefined);
      assert.equal(await store.findToken('nope', T0), undefined);
      await store.putIdempotent('s', 'k', 202, '{}', T0 + 10);
      assert.deepEqual(await store.getIdempotent('s', 'k', T0), { status: 202, body: '{}' });
      assert.equal(await store.getIdempotent('s', 'k', T0 + 10), undefined);
    });

    test("tokens keep their grant; logout deletes one; expiry cuts an application's tokens short, by session", async () => {
      const a = await app();
      const b = await app();
      await store.createToken('g1', a.id, T0 + 1000, { capabilities: ['ViewBase'], sessionId: 's1' });
      await store.createToken('g2', a.id, null, { sessionId: 's2' });
      await store.createToken('g3', a.id, T0 + 5);
      await store.createToken('g4', b.id, null);
      assert.deepEqual(await store.findToken('g1', T0), {
        appId: a.id,
        capabilities: ['ViewBase'],
        featureFlags: null,
        integration: false,
        expiresAt: T0 + 1000,
        sessionId: 's1',
      });
      // Session s1 ends at T0 + 100; a token already ending sooner keeps its own end.
      assert.equal(await store.expireTokens(a.id, T0 + 100, ['s1']), 1);
      assert.equal((await store.findToken('g1', T0))?.expiresAt, T0 + 100);
      assert.ok(await store.findToken('g1', T0 + 99));
      assert.equal(await store.findToken('g1', T0 + 100), undefined);
      assert.equal(await store.expireTokens(a.id, T0 + 50), 2); // g1 (was T0 + 100) and g2
      assert.equal(await store.findToken('g2', T0 + 50), undefined);
      assert.equal(await store.findToken('g3', T0 + 5), undefined);
      assert.ok(await store.findToken('g4', T0 + 50));
      assert.equal(await store.deleteToken('g4'), true);
      assert.equal(await store.deleteToken('g4'), false);
      assert.equal(await store.findToken('g4', T0), undefined);
    });

    test('messages list newest first and filter by event type, channel and time', async () => {
      const a = await app();
      const m1 = await store.createMessage(message(a.id, { eventType: 'a', createdAt: T0 + 1 }), {});
      const m2 = await store.createMessage(message(a.id, { eventType: 'b', channels: ['x'], createdAt: T0 + 2 }), {});
      const ids = async (f: Parameters<Store['listMessages']>[1]) =>
        (await store.listMessages(a.id, f)).data.map((m) => m.id);
      assert.deepEqual(await ids({ limit: 10 }), [m2.message.id, m1.message.id]);
      assert.deepEqual(await ids({ limit: 10, eventTypes: ['a'] }), [m1.message.id]);
      assert.deepEqual(await ids({ limit: 10, channel: 'x' }), [m2.message.id]);
      assert.deepEqual(await ids({ limit: 10, after: T0 + 1 }), [m2.message.id]);
      assert.deepEqual(await ids({ limit: 10, before: T0 + 2 }), [m1.message.id]);
    });

    test('event types: feature flags are kept and narrow a list to the types a token may see; delete expunges', async () => {
      const t = (name: string, featureFlags: string[] | null) => eventType(name, { featureFlags });
      await store.createEventType(t('ff-open', null), T0);
      await store.createEventType(t('ff-beta', ['beta']), T0);
      await store.createEventType(t('ff-both', ['beta', 'gamma']), T0);
      assert.deepEqual((await store.getEventType('ff-both'))?.featureFlags, ['beta', 'gamma']);
      const seen = async (featureFlags?: string[]) =>
        (await store.listEventTypes({ limit: 250, ...(featureFlags ? { featureFlags } : {}) })).data
          .map((x) => x.name)
          .filter((n) => n.startsWith('ff-'));
      assert.deepEqual(await seen(), ['ff-beta', 'ff-both', 'ff-open']);
      assert.deepEqual(await seen([]), ['ff-open']);
      assert.deepEqual(await seen(['gamma']), ['ff-both', 'ff-open']);
      const updated = await store.updateEventType(
        { ...(await store.getEventType('ff-beta'))!, featureFlags: null },
        T0 + 1,
      );
      assert.equal(updated.featureFlags, null);
      assert.equal((await store.getEventType('ff-beta'))?.featureFlags, null);
      assert.equal(await store.deleteEventType('ff-beta'), true);
      assert.equal(await store.getEventType('ff-beta'), undefined);
      assert.equal(await store.deleteEventType('ff-beta'), false);
    });

    test('applications list without those with no endpoints, or with only disabled ones', async () => {
      const none = await app();
      const enabled = await app();
      await endpoint(enabled.id);
      const disabled = await app();
      await endpoint(disabled.id, { disabled: true });
      const mixed = await app();
      await endpoint(mixed.id, { disabled: true });
      await endpoint(mixed.id);
      const ours = new Set([none.id, enabled.id, disabled.id, mixed.id]);
      const list = async (o: { withEndpoints?: boolean; withoutOnlyDisabled?: boolean }) =>
        (await store.listApplications({ limit: 250, ...o })).data.map((a) => a.id).filter((id) => ours.has(id));
      assert.deepEqual(await list({}), [none.id, enabled.id, disabled.id, mixed.id]);
      assert.deepEqual(await list({ withEndpoints: true }), [enabled.id, disabled.id, mixed.id]);
      assert.deepEqual(await list({ withoutOnlyDisabled: true }), [none.id, enabled.id, mixed.id]);
      assert.deepEqual(await list({ withEndpoints: true, withoutOnlyDisabled: true }), [enabled.id, mixed.id]);
    });

    test('integrations: created, listed, changed, their key found as a token and rotated, gone with their application', async () => {
      const a = await app();
      const i = await store.createIntegration(
        { id: newId('integ'), appId: a.id, name: 'zap', featureFlags: ['beta'], key: 'integsk_one' },
        'hash-one',
        T0,
      );
      assert.deepEqual(await store.getIntegration(a.id, i.id), i);
      assert.equal(await store.getIntegration('app_other', i.id), undefined);
      assert.deepEqual(
        (await store.listIntegrations(a.id, { limit: 10 })).data.map((x) => x.id),
        [i.id],
      );
      assert.deepEqual(await store.findToken('hash-one', T0), {
        appId: a.id,
        capabilities: null,
        featureFlags: ['beta'],
        integration: true,
        expiresAt: null,
        sessionId: null,
      });
      const renamed = await store.updateIntegration(a.id, i.id, { name: 'zap2', featureFlags: null }, T0 + 1);
      assert.equal(renamed?.name, 'zap2');
      assert.equal(renamed?.featureFlags, null);
      assert.equal(
        await store.updateIntegration(a.id, 'integ_missing', { name: 'x', featureFlags: null }, T0),
        undefined,
      );
      const rotated = await store.rotateIntegrationKey(a.id, i.id, 'integsk_two', 'hash-two', T0 + 2);
      assert.equal(rotated?.key, 'integsk_two');
      assert.equal(await store.findToken('hash-one', T0), undefined);
      assert.equal((await store.findToken('hash-two', T0))?.appId, a.id);
      assert.equal(await store.deleteIntegration('app_other', i.id), false);
      const other = await store.createIntegration(
        { id: newId('integ'), appId: a.id, name: 'other', featureFlags: null, key: 'integsk_three' },
        'hash-three',
        T0,
      );
      assert.equal(await store.deleteIntegration(a.id, i.id), true);
      assert.equal(await store.findToken('hash-two', T0), undefined);
      await store.deleteApplication(a.id);
      assert.equal(await store.getIntegration(a.id, other.id), undefined);
      assert.equal(await store.findToken('hash-three', T0), undefined);
    });

    test('portal tokens keep the feature flags they were made with', async () => {
      const a = await app();
      await store.createToken('ff-token', a.id, T0 + 1000, { featureFlags: ['beta'] });
      await store.createToken('no-ff-token', a.id, T0 + 1000);
      assert.deepEqual((await store.findToken('ff-token', T0))?.featureFlags, ['beta']);
      assert.equal((await store.findToken('no-ff-token', T0))?.featureFlags, null);
      assert.equal((await store.findToken('ff-token', T0))?.integration, false);
    });
  });
}

function attemptFor(m: MessageRow, e: EndpointRow, status: 0 | 2) {
  return {
    id: newId('atmpt'),
    msgId: m.id,
    endpointId: e.id,
    appId: m.appId,
    url: e.url,
    status,
    statusCode: status === 0 ? 200 : 500,
    response: 'ok',
    durationMs: 3,
    failureKind: status === 0 ? null : 'http_status',
    failureMessage: null,
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertificateSent: true },
    triggerType: 0,
    createdAt: m.createdAt,
  } as const;
}
