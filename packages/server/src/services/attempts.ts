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
import type { Caller } from './actor.ts';
import type { ServiceDeps } from './context.ts';
import type { Endpoints } from './endpoints.ts';
import type { Messages } from './messages.ts';

const EMPTY: Page<never> = { data: [], done: true, iterator: null, prevIterator: null };

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

  return { byMessage, destinations, endpointMessages, byEndpoint, get, expungeResponse };
}
