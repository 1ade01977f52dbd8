import type { EndpointRow, NewEndpoint } from '../../src/store/types.ts';

/** A valid endpoint to create in tests: HMAC-signed, no filters, no TLS overrides. */
export function newEndpoint(appId: string, id: string, over: Partial<NewEndpoint> = {}): NewEndpoint {
  return {
    id,
    appId,
    uid: null,
    url: 'https://example.test/hook',
    description: '',
    disabled: false,
    filterTypes: null,
    channels: null,
    metadata: {},
    headers: {},
    rateLimit: null,
    version: 1,
    secrets: [{ key: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw==', expiresAt: null }],
    signing: 'hmac',
    serverCaPem: null,
    clientCertPem: null,
    clientKeyPem: null,
    allowHttp: false,
    tlsPolicy: null,
    ...over,
  };
}

/** The same endpoint as a stored row. */
export function endpointRow(appId: string, id: string, over: Partial<EndpointRow> = {}): EndpointRow {
  return { ...newEndpoint(appId, id), failingSince: null, createdAt: 1, updatedAt: 2, ...over };
}
