export {
  ERROR_CODES,
  type ErrorCode,
  HookwardenError,
  PolicyError,
  SETUP_CODES,
  VERIFICATION_CODES,
  type VerificationCode,
  VerificationError,
} from './errors.ts';
export { IpSet, parseCidr, parseIp } from './ip.ts';
export type {
  CertificateSource,
  ClientCertificatePolicy,
  ReplayPolicy,
  SignaturePolicy,
  VerifyPolicy,
} from './policy.ts';
export type { CustomHeaderMap, ProxyKind } from './proxy-headers/index.ts';
export { MemoryReplayStore, type ReplayStore } from './replay.ts';
export { FileReplayStore, type FileReplayStoreOptions } from './replay-file.ts';
export {
  createSignatureChecker,
  generateEd25519Key,
  generateSecret,
  sign,
  verifySignature,
} from './signature.ts';
export { httpsServerOptions, tlsFactsFromSocket } from './tls.ts';
export type { TrustDocument, TrustDocumentOptions } from './trust-document.ts';
export {
  type Check,
  createVerifier,
  type Verified,
  type VerifiedFacts,
  type VerifiedIdentity,
  type Verifier,
  type VerifyRequest,
} from './verifier.ts';
