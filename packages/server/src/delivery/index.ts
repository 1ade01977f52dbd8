export { forbiddenAddressReason, unmapIPv4 } from './address.ts';
export { type CipherPolicy, DEFAULT_CIPHER_POLICY, nodeCipherString, type TlsVersion } from './ciphers.ts';
export { DeliveryError } from './errors.ts';
export {
  assertTargetAllowed,
  type LookupAddress,
  type LookupFn,
  parseEndpointUrl,
  resolveAllowed,
  systemLookup,
} from './ssrf.ts';
