export {
  HookwardenError,
  PolicyError,
  VERIFICATION_CODES,
  type VerificationCode,
  VerificationError,
} from './errors.ts';
export {
  createSignatureChecker,
  generateEd25519Key,
  generateSecret,
  sign,
  verifySignature,
} from './signature.ts';
