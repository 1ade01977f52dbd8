/**
 * JSON Schemas of the request bodies and parameters: Fastify validates every request against them
 * before a handler runs, and the OpenAPI document is built from the same objects. Field names and
 * limits follow the Svix API v1; `x-hookwarden` marks our extensions.
 */

import { TLS12_CIPHERS, TLS13_SUITES } from '../delivery/ciphers.ts';
import { CAPABILITIES } from '../services/actor.ts';

const NAME = '^[a-zA-Z0-9\\-_.]+$';
/** What a uid may look like (applications, endpoints). */
export const UID_PATTERN = NAME;
const CHANNEL = '^[a-zA-Z0-9\\-_.:]+$';

export const uid = { type: ['string', 'null'], minLength: 1, maxLength: 256, pattern: NAME } as const;
const metadata = { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 64 };
const rateLimit = { type: ['integer', 'null'], minimum: 0, maximum: 65535 };
// An id or a name as Svix accepts it: application, endpoint and message ids, event type names.
const idOrName = { type: 'string', minLength: 1, maxLength: 256, pattern: NAME };
const channels = {
  type: ['array', 'null'],
  items: { type: 'string', minLength: 1, maxLength: 128, pattern: CHANNEL },
  minItems: 1,
  maxItems: 10,
  uniqueItems: true,
};
const featureFlags = { type: ['array', 'null'], items: idOrName, minItems: 1, maxItems: 25, uniqueItems: true };
const filterTypes = { type: ['array', 'null'], items: idOrName, minItems: 1, maxItems: 1000, uniqueItems: true };
// Header values must not smuggle a line break or NUL into the request we send.
const headerValue = { type: 'string', maxLength: 4096, pattern: '^[^\\r\\n\\u0000]*$' };
const headerMap = {
  type: 'object',
  additionalProperties: headerValue,
  propertyNames: { pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$", maxLength: 256 },
  maxProperties: 32,
};
const pem = { type: 'string', minLength: 1, maxLength: 65536 };
const secret = { type: ['string', 'null'], pattern: '^(whsec_)?[a-zA-Z0-9+/=]{32,100}$' };

export const params = {
  app: {
    type: 'object',
    required: ['app_id'],
    properties: { app_id: idOrName },
  },
  endpoint: {
    type: 'object',
    required: ['app_id', 'endpoint_id'],
    properties: {
      app_id: idOrName,
      endpoint_id: idOrName,
    },
  },
  msg: {
    type: 'object',
    required: ['app_id', 'msg_id'],
    properties: {
      app_id: idOrName,
      msg_id: idOrName,
    },
  },
  attempt: {
    type: 'object',
    required: ['app_id', 'msg_id', 'attempt_id'],
    properties: { app_id: idOrName, msg_id: idOrName, attempt_id: idOrName },
  },
  msgEndpoint: {
    type: 'object',
    required: ['app_id', 'msg_id', 'endpoint_id'],
    properties: { app_id: idOrName, msg_id: idOrName, endpoint_id: idOrName },
  },
  eventType: {
    type: 'object',
    required: ['event_type_name'],
    properties: { event_type_name: idOrName },
  },
  operationalEndpoint: {
    type: 'object',
    required: ['endpoint_id'],
    properties: { endpoint_id: idOrName },
  },
  integration: {
    type: 'object',
    required: ['app_id', 'integ_id'],
    properties: { app_id: idOrName, integ_id: idOrName },
  },
  task: {
    type: 'object',
    required: ['task_id'],
    properties: { task_id: idOrName },
  },
} as const;

const listProps = {
  limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 },
  iterator: { type: ['string', 'null'], maxLength: 1024 },
  order: { type: 'string', enum: ['ascending', 'descending'] },
};

export const query = {
  list: { type: 'object', properties: listProps },
  applications: {
    type: 'object',
    properties: {
      ...listProps,
      exclude_apps_with_no_endpoints: { type: 'boolean' },
      exclude_apps_with_disabled_endpoints: { type: 'boolean' },
      exclude_apps_with_svix_play_endpoints: { type: 'boolean' },
    },
  },
  eventTypes: {
    type: 'object',
    properties: { ...listProps, include_archived: { type: 'boolean' }, with_content: { type: 'boolean' } },
  },
  eventTypeDelete: { type: 'object', properties: { expunge: { type: 'boolean' } } },
  createApp: { type: 'object', properties: { get_if_exists: { type: 'boolean' } } },
  tasks: {
    type: 'object',
    properties: {
      ...listProps,
      status: { type: 'string', enum: ['running', 'finished', 'failed'] },
      // Svix's BackgroundTaskType: the kinds Hookwarden never runs simply match nothing.
      task: {
        type: 'string',
        enum: [
          'endpoint.replay',
          'endpoint.recover',
          'application.stats',
          'message.broadcast',
          'sdk.generate',
          'event-type.aggregate',
          'application.purge_content',
          'endpoint.bulk-replay',
        ],
      },
    },
  },
  stats: {
    type: 'object',
    properties: { since: { type: 'string', format: 'date-time' }, until: { type: 'string', format: 'date-time' } },
  },
  messages: {
    type: 'object',
    properties: {
      ...listProps,
      channel: { type: 'string', maxLength: 128 },
      before: { type: 'string', format: 'date-time' },
      after: { type: 'string', format: 'date-time' },
      with_content: { type: 'boolean' },
      tag: { type: 'string', maxLength: 128 },
      event_types: { type: 'string', maxLength: 4096 },
    },
  },
  withContent: { type: 'object', properties: { with_content: { type: 'boolean' } } },
  endpointMessages: {
    type: 'object',
    properties: {
      ...listProps,
      channel: { type: 'string', maxLength: 128 },
      tag: { type: 'string', maxLength: 128 },
      status: { type: 'integer', enum: [0, 1, 2, 3, 4] },
      before: { type: 'string', format: 'date-time' },
      after: { type: 'string', format: 'date-time' },
      with_content: { type: 'boolean' },
      expanded_statuses: { type: 'boolean' },
      event_types: { type: 'string', maxLength: 4096 },
    },
  },
  attempts: {
    type: 'object',
    properties: {
      ...listProps,
      status: { type: 'integer', enum: [0, 1, 2, 3, 4] },
      status_code_class: { type: 'integer', enum: [0, 100, 200, 300, 400, 500] },
      channel: { type: 'string', maxLength: 128 },
      tag: { type: 'string', maxLength: 128 },
      endpoint_id: { type: 'string', maxLength: 256 },
      before: { type: 'string', format: 'date-time' },
      after: { type: 'string', format: 'date-time' },
      with_content: { type: 'boolean' },
      with_msg: { type: 'boolean' },
      expanded_statuses: { type: 'boolean' },
      event_types: { type: 'string', maxLength: 4096 },
    },
  },
} as const;

export const applicationIn = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    uid,
    metadata,
    rateLimit,
    throttleRate: rateLimit,
  },
} as const;

export const applicationPatch = {
  type: 'object',
  properties: applicationIn.properties,
} as const;

export const eventTypeIn = {
  type: 'object',
  required: ['name', 'description'],
  properties: {
    name: idOrName,
    description: { type: 'string', maxLength: 4096 },
    archived: { type: 'boolean' },
    deprecated: { type: 'boolean' },
    groupName: { type: ['string', 'null'], maxLength: 256 },
    featureFlag: { ...idOrName, type: ['string', 'null'] },
    featureFlags,
    schemas: { type: ['object', 'null'] },
  },
} as const;

export const eventTypeUpdate = {
  type: 'object',
  required: ['description'],
  properties: { ...eventTypeIn.properties },
} as const;

export const eventTypePatch = { type: 'object', properties: { ...eventTypeIn.properties } } as const;

export const appUsageStatsIn = {
  type: 'object',
  required: ['since', 'until'],
  properties: {
    appIds: { type: ['array', 'null'], items: idOrName, maxItems: 1000 },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
  },
} as const;

export const environmentIn = {
  type: 'object',
  properties: {
    eventTypes: { type: ['array', 'null'], items: eventTypeIn, maxItems: 1000 },
    connectors: { type: ['array', 'null'], maxItems: 1000 },
    settings: {},
  },
} as const;

export const eventTypeImportIn = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    replaceAll: { type: 'boolean' },
    spec: { type: ['object', 'null'] },
    specRaw: { type: ['string', 'null'], maxLength: 1024 * 1024 },
  },
} as const;

const endpointExtensions = {
  serverCa: {
    ...pem,
    type: ['string', 'null'],
    description: 'PEM certificate(s) to trust for this receiver instead of the public CAs.',
    'x-hookwarden': true,
  },
  clientIdentity: {
    type: ['object', 'null'],
    description: "A tenant-specific client certificate presented instead of the platform's.",
    'x-hookwarden': true,
    required: ['certPem', 'keyPem'],
    properties: { certPem: pem, keyPem: pem, chainPem: pem },
  },
  signatureScheme: {
    type: 'string',
    enum: ['v1', 'v1a'],
    description: "v1 = HMAC-SHA256 with the endpoint secret; v1a = Ed25519 with the platform's key (trust document).",
    'x-hookwarden': true,
  },
  tlsPolicy: {
    type: ['object', 'null'],
    description: "Overrides of the server's TLS policy for this receiver; suites must come from the server's list.",
    'x-hookwarden': true,
    additionalProperties: false,
    properties: {
      minVersion: { type: 'string', enum: ['TLSv1.2', 'TLSv1.3'] },
      maxVersion: { type: 'string', enum: ['TLSv1.2', 'TLSv1.3'] },
      ciphers: { type: 'array', items: { type: 'string', enum: [...TLS12_CIPHERS] }, minItems: 1, uniqueItems: true },
      tls13Suites: {
        type: 'array',
        items: { type: 'string', enum: [...TLS13_SUITES] },
        minItems: 1,
        uniqueItems: true,
      },
    },
  },
  allowHttp: {
    type: 'boolean',
    description: 'Permit a plain http:// URL (never for production receivers).',
    'x-hookwarden': true,
  },
};

const endpointProps = {
  url: { type: 'string', minLength: 1, maxLength: 65536, format: 'uri' },
  uid,
  description: { type: 'string', maxLength: 4096 },
  disabled: { type: 'boolean' },
  // Svix 2 renamed filterTypes to eventTypes; both are accepted (context.ts eventTypesOf).
  eventTypes: filterTypes,
  filterTypes,
  channels,
  metadata,
  headers: { ...headerMap, type: ['object', 'null'] },
  rateLimit,
  throttleRate: rateLimit,
  secret,
  version: { type: ['integer', 'null'], minimum: 1 },
  ...endpointExtensions,
};

export const endpointIn = { type: 'object', required: ['url'], properties: endpointProps } as const;
export const endpointPatch = { type: 'object', properties: endpointProps } as const;

export const secretRotateIn = {
  type: 'object',
  properties: { key: secret, gracePeriodSeconds: { type: ['integer', 'null'], minimum: 0, maximum: 604800 } },
} as const;
export const headersIn = { type: 'object', required: ['headers'], properties: { headers: headerMap } } as const;
export const headersPatch = {
  type: 'object',
  required: ['headers'],
  properties: {
    headers: { ...headerMap, additionalProperties: { ...headerValue, type: ['string', 'null'] } },
    deleteHeaders: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 32 },
  },
} as const;
export const recoverIn = {
  type: 'object',
  required: ['since'],
  properties: {
    since: { type: 'string', format: 'date-time' },
    until: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
export const bulkReplayIn = {
  type: 'object',
  required: ['since'],
  properties: {
    ...recoverIn.properties,
    eventTypes: { type: ['array', 'null'], items: idOrName, maxItems: 250 },
    channel: { type: ['string', 'null'], maxLength: 128 },
    tag: { type: ['string', 'null'], maxLength: 128 },
    status: { type: ['integer', 'null'], enum: [0, 1, 2, 3, null] },
    statusCodeClass: { type: ['integer', 'null'], enum: [0, 100, 200, 300, 400, 500, null] },
  },
} as const;
export const eventExampleIn = {
  type: 'object',
  required: ['eventType'],
  properties: { eventType: idOrName, exampleIndex: { type: 'integer', minimum: 0, maximum: 100 } },
} as const;

export const messagePrecheckIn = {
  type: 'object',
  required: ['eventType'],
  properties: { eventType: idOrName, channels },
} as const;

export const messageIn = {
  type: 'object',
  required: ['eventType', 'payload'],
  properties: {
    eventType: idOrName,
    eventId: { type: ['string', 'null'], minLength: 1, maxLength: 256, pattern: NAME },
    payload: { type: 'object' },
    channels,
    tags: { type: ['array', 'null'], items: { type: 'string', maxLength: 128 }, maxItems: 5 },
    deliverAt: { type: ['string', 'null'], format: 'date-time' },
    payloadRetentionPeriod: { type: ['integer', 'null'], minimum: 1, maximum: 90 },
    payloadRetentionHours: { type: ['integer', 'null'], minimum: 1, maximum: 2160 },
    // Created with the message when the path names no application yet (see routes/messages.ts).
    application: { ...applicationIn, type: ['object', 'null'] },
    transformationsParams: { type: ['object', 'null'] },
  },
} as const;

export const tokenExpireIn = {
  type: 'object',
  properties: {
    expiry: { type: ['integer', 'null'], minimum: 0, maximum: 604800 },
    sessionIds: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 1000 },
  },
} as const;

export const appPortalAccessIn = {
  type: 'object',
  properties: {
    expiry: { type: ['integer', 'null'], minimum: 1, maximum: 604800 },
    readOnly: { type: ['boolean', 'null'] },
    sessionId: { type: ['string', 'null'], maxLength: 256 },
    featureFlags: { ...featureFlags, type: 'array' },
    capabilities: { type: ['array', 'null'], items: { enum: CAPABILITIES } },
    application: { ...applicationIn, type: ['object', 'null'] },
  },
} as const;

export const integrationIn = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    featureFlags: { ...featureFlags, type: 'array' },
  },
} as const;

export const bulkExpungeIn = {
  type: 'object',
  properties: { ids: { type: 'array', items: idOrName, maxItems: 1000, uniqueItems: true } },
} as const;
