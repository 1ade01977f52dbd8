import { type CipherPolicy, TLS_VERSIONS, TLS13_SUITES, type TlsVersion } from '../delivery/ciphers.ts';
import { refusedWithoutCertificate } from './client-auth.ts';
import type { ProbeResult } from './probe.ts';

export const WIRE_VERSION: Record<TlsVersion, number> = {
  TLSv1: 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': 0x0303,
  'TLSv1.3': 0x0304,
};
/**
 * Version probes offer every TLS 1.2-and-older suite OpenSSL has, at security level 0 (OpenSSL 3
 * refuses TLS 1.0 and 1.1 otherwise), so "accepted" means the version, not one of our suites. For
 * TLS 1.3 they offer the dispatcher's suites only: those are the ones whose encrypted handshake the
 * checker can read (a server that picks CCM would hide its CertificateRequest), and the dispatcher
 * never negotiates anything else.
 */
export const ANY_SUITE = `${TLS13_SUITES.join(':')}:ALL:@SECLEVEL=0`;

export function inPolicy(version: TlsVersion, policy: CipherPolicy): boolean {
  const i = TLS_VERSIONS.indexOf(version);
  return i >= TLS_VERSIONS.indexOf(policy.minVersion) && i <= TLS_VERSIONS.indexOf(policy.maxVersion);
}

/** A suite was accepted when the server chose it in a ServerHello at that version. */
export function acceptedAt(result: ProbeResult, version: TlsVersion): boolean | null {
  if (result.view) return result.view.version === WIRE_VERSION[version];
  if (result.handshake) return result.protocol === version;
  return result.failure && result.failure.kind !== 'timeout' && result.failure.kind !== 'connect' ? false : null;
}

/**
 * A suite is accepted only when a handshake with it could complete: a ServerHello that the client
 * then has to abandon (say, a server key below OpenSSL's security level) delivers nothing. A refusal
 * of the missing client certificate still counts: with the platform's certificate it completes.
 */
export function suiteAcceptedAt(result: ProbeResult, version: TlsVersion): boolean | null {
  const answered = acceptedAt(result, version);
  if (answered !== true) return answered;
  if (result.handshake || refusedWithoutCertificate(result)) return true;
  return result.failure?.kind === 'timeout' ? null : false;
}
