export { type CertificateInfo, describeCertificate } from './describe.ts';
export { PKI_CODES, type PkiCode, PkiError } from './errors.ts';
export { directoryFiles, type PkiFiles } from './files.ts';
export { type Fingerprints, fingerprints } from './fingerprints.ts';
export {
  type CertKey,
  caBundlePem,
  chainPem,
  createHierarchy,
  createSelfSignedCa,
  type Hierarchy,
  type IssueOptions,
  issueCertificate,
} from './issue.ts';
export { KEY_TYPES, type KeyType } from './keys.ts';
export { type Identity, type InitOptions, openPkiStore, type PkiStore, type RotateOptions } from './store.ts';
export { MAX_INTERMEDIATES, type ValidIdentity, validateIdentity } from './validate.ts';
