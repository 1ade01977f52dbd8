import type { NewEndpoint } from './types.ts';

/**
 * An endpoint as it is created when nothing more is asked for: every event type and channel,
 * signed with HMAC under `secret`, the platform's identity and the public CAs, https only.
 */
export function newEndpoint(o: { id: string; appId: string; url: string; secret: string }): NewEndpoint {
  return {
    id: o.id,
    appId: o.appId,
    uid: null,
    url: o.url,
    description: '',
    disabled: false,
    filterTypes: null,
    channels: null,
    metadata: {},
    headers: {},
    rateLimit: null,
    version: 1,
    secrets: [{ key: o.secret, expiresAt: null }],
    signing: 'hmac',
    serverCaPem: null,
    clientCertPem: null,
    clientKeyPem: null,
    allowHttp: false,
    tlsPolicy: null,
  };
}
