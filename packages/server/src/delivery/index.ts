export { forbiddenAddressReason, unmapIPv4 } from './address.ts';
export { type CipherPolicy, DEFAULT_CIPHER_POLICY, nodeCipherString, type TlsVersion } from './ciphers.ts';
export { createDeliveryClient } from './client.ts';
export { DeliveryError } from './errors.ts';
export { CONNECTION_HEADERS, isConnectionHeader } from './headers.ts';
export { DEFAULT_MAX_RETRY_AFTER_MS, DEFAULT_RETRY_SCHEDULE_MS, nextAttemptDelay, parseRetryAfter } from './retry.ts';
export { signedHeaders } from './signing.ts';
export {
  assertTargetAllowed,
  type LookupAddress,
  type LookupFn,
  parseEndpointUrl,
  resolveAllowed,
  systemLookup,
} from './ssrf.ts';
export type {
  AttemptOutcome,
  ClientIdentity,
  DeliveryClient,
  DeliveryClientOptions,
  DeliveryRequest,
  FailureKind,
  TlsFacts,
} from './types.ts';
