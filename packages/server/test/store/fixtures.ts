import { newId } from '../../src/ids.ts';
import { newEndpoint as defaults } from '../../src/store/new-endpoint.ts';
import type { EndpointRow, MessageRow, NewEndpoint } from '../../src/store/types.ts';

/** A valid endpoint to create in tests: HMAC-signed, no filters, no TLS overrides. */
export function newEndpoint(appId: string, id: string, over: Partial<NewEndpoint> = {}): NewEndpoint {
  const secret = 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw==';
  return { ...defaults({ id, appId, url: 'https://example.test/hook', secret }), ...over };
}

/** The same endpoint as a stored row. */
export function endpointRow(appId: string, id: string, over: Partial<EndpointRow> = {}): EndpointRow {
  return { ...newEndpoint(appId, id), failingSince: null, createdAt: 1, updatedAt: 2, ...over };
}

/** A message of the application as the API would store it, created at `createdAt`. */
export function newMessage(appId: string, createdAt: number, over: Partial<MessageRow> = {}): MessageRow {
  return {
    id: newId('msg'),
    appId,
    eventType: 'user.created',
    eventId: null,
    channels: null,
    tags: null,
    payload: '{"a":1}',
    createdAt,
    ...over,
  };
}
