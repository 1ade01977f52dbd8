import type { CipherPolicy, TlsVersion } from '../delivery/ciphers.ts';
import type { ProbeResult } from './probe.ts';

export const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
export const WIRE_VERSION: Record<TlsVersion, number> = {
  TLSv1: 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': 0x0303,
  'TLSv1.3': 0x0304,
};
const ALL_TLS13 = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256';
/**
 * Version probes offer every suite OpenSSL has, at security level 0 (OpenSSL 3 refuses TLS 1.0 and
 * 1.1 otherwise), so "accepted" means the version, not one of our suites.
 */
export const ANY_SUITE = `${ALL_TLS13}:ALL:@SECLEVEL=0`;

export function inPolicy(version: TlsVersion, policy: CipherPolicy): boolean {
  const i = VERSIONS.indexOf(version);
  return i >= VERSIONS.indexOf(policy.minVersion) && i <= VERSIONS.indexOf(policy.maxVersion);
}

/** A suite was accepted when the server chose it in a ServerHello at that version. */
export function acceptedAt(result: ProbeResult, version: TlsVersion): boolean | null {
  if (result.view) return result.view.version === WIRE_VERSION[version];
  if (result.handshake) return result.protocol === version;
  return result.failure && result.failure.kind !== 'timeout' && result.failure.kind !== 'connect' ? false : null;
}
