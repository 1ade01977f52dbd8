export { CHECK_ERROR_CODES, CheckError } from './errors.ts';
export { FINDINGS, type FindingCode } from './findings.ts';
export { renderReport, reportJson, sanitizeText } from './render.ts';
export { runCheck } from './run.ts';
export { CHECK_HEADER } from './test-event.ts';
export type {
  CertificateSummary,
  CheckOptions,
  CheckReport,
  ClientAuthMode,
  ClientIdentity,
  Finding,
  LookupFn,
  Severity,
  TestEventResult,
  Verdict,
} from './types.ts';
