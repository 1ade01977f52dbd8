import { notFound } from '../errors.ts';
import type {
  ApplicationRow,
  AttemptFilter,
  AttemptRow,
  EndpointMessage,
  EndpointMessageFilter,
  MessageDestination,
  MessageRow,
  Page,
  PageQuery,
} from '../store/types.ts';
import { authorize, type Caller, within } from './actor.ts';
import type { ServiceDeps } from './context.ts';
import type { Endpoints } from './endpoints.ts';
import type { Messages } from './messages.ts';

const EMPTY: Page<never> = { data: [], done: true, iterator: null, prevIterator: null };

/** One message with where it went and what its attempts were. */
export interface MessageDeliveries {
  message: MessageRow;
  /** Its deliveries, one per endpoint, at their latest status. */
  destinations: MessageDestination[];
  /** Its attempts, newest first. */
  attempts: AttemptRow[];
}

/** How many destinations and attempts of each message an overview shows. */
const PER_MESSAGE = 50;

const mapPage = <T, U>(p: Page<T>, f: (t: T) => U): Page<U> => ({ ...p, data: p.data.map(f) });

export type Attempts = ReturnType<typeof attemptService>;

/** What happened to messages: their attempts, where they went, what each endpoint was sent. */
export function attemptService(deps: ServiceDeps, endpoints: Endpoints, messages: Messages) {
  const { store } = deps;

  /**
   * A message's attempts. The endpoint filter takes an id or a uid and is part of the query:
   * filtered afterwards, pages came back short or empty with more to come.
   */
  async function byMessage(
    c: Caller,
    app: ApplicationRow,
    msgIdOrEventId: string,
    f: AttemptFilter & { endpoint?: string },
  ): Promise<Page<AttemptRow>> {
    const msg = await messages.find(c, app, msgIdOrEventId, 'attempt.read');
    const { endpoint, ...filter } = f;
    if (endpoint !== undefined) {
      const ep = await store.getEndpoint(app.id, endpoint);
      if (!ep) return EMPTY;
      filter.endpointId = ep.id;
    }
    return store.listAttemptsByMessage(app.id, msg.id, filter);
  }

  /** Svix's listAttemptedDestinations: where the message went, and how each delivery stands. */
  async function destinations(
    c: Caller,
    app: ApplicationRow,
    msgIdOrEventId: string,
    page: PageQuery,
  ): Promise<Page<MessageDestination>> {
    const msg = await messages.find(c, app, msgIdOrEventId, 'attempt.read');
    return store.listMessageDestinations(app.id, msg.id, page, deps.now());
  }

  /** Svix's listAttemptedMessages: what was sent to the endpoint, newest first, and how each stands. */
  async function endpointMessages(
    c: Caller,
    app: ApplicationRow,
    endpointIdOrUid: string,
    f: EndpointMessageFilter,
  ): Promise<Page<EndpointMessage>> {
    const ep = await endpoints.find(c, app, endpointIdOrUid, 'message.read');
    return store.listEndpointMessages(app.id, ep.id, f, deps.now());
  }

  /** An endpoint's attempts; `withMessages`: each page's messages too, one lookup per message. */
  async function byEndpoint(
    c: Caller,
    app: ApplicationRow,
    endpointIdOrUid: string,
    f: AttemptFilter,
    withMessages = false,
  ): Promise<{ page: Page<AttemptRow>; messages: Map<string, MessageRow | undefined> }> {
    const ep = await endpoints.find(c, app, endpointIdOrUid, 'attempt.read');
    const page = await store.listAttemptsByEndpoint(app.id, ep.id, f);
    const found = new Map<string, MessageRow | undefined>();
    if (withMessages) {
      for (const a of page.data) {
        if (!found.has(a.msgId)) found.set(a.msgId, await store.getMessage(app.id, a.msgId));
      }
    }
    return { page, messages: found };
  }

  async function get(c: Caller, app: ApplicationRow, msgIdOrEventId: string, attemptId: string): Promise<AttemptRow> {
    const msg = await messages.find(c, app, msgIdOrEventId, 'attempt.read');
    const a = await store.getAttempt(app.id, msg.id, attemptId);
    if (!a) throw notFound('attempt');
    return a;
  }

  /** Deletes what the receiver answered (an endpoint that echoed something sensitive). */
  async function expungeResponse(c: Caller, app: ApplicationRow, msgIdOrEventId: string, attemptId: string) {
    const msg = await messages.find(c, app, msgIdOrEventId, 'attempt.expunge');
    if (!(await store.expungeAttemptResponse(app.id, msg.id, attemptId))) throw notFound('attempt');
  }

  /**
   * A page of the application's messages, newest first, each with its deliveries and attempts (to
   * the one endpoint, when `endpoint` names one; then `status` filters by that delivery's status).
   * The lookups of a page are made at once: the SQLite store answers them in one round trip.
   */
  async function overview(
    c: Caller,
    app: ApplicationRow,
    f: EndpointMessageFilter & { endpoint?: string },
  ): Promise<{ page: Page<MessageRow>; messages: MessageDeliveries[] }> {
    authorize(c.actor, 'attempt.read');
    within(c.actor, app.id);
    const now = deps.now();
    const { endpoint, status, ...filter } = f;
    const ep = endpoint === undefined ? undefined : await endpoints.find(c, app, endpoint, 'attempt.read');
    const page: Page<MessageRow> = ep
      ? mapPage(
          await store.listEndpointMessages(
            app.id,
            ep.id,
            { ...filter, ...(status === undefined ? {} : { status }) },
            now,
          ),
          (m) => m.message,
        )
      : await store.listMessages(app.id, filter);
    const messages = await Promise.all(
      page.data.map(async (message) => {
        const [destinations, attempts] = await Promise.all([
          store.listMessageDestinations(app.id, message.id, { limit: PER_MESSAGE }, now),
          store.listAttemptsByMessage(app.id, message.id, { limit: PER_MESSAGE, ...(ep ? { endpointId: ep.id } : {}) }),
        ]);
        const shown = ep ? destinations.data.filter((d) => d.endpoint.id === ep.id) : destinations.data;
        return { message, destinations: shown, attempts: attempts.data };
      }),
    );
    return { page, messages };
  }

  return { byMessage, destinations, endpointMessages, byEndpoint, get, expungeResponse, overview };
}
