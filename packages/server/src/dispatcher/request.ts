import { createSigner, type Signer } from '@hookwarden/verify/signature';
import { type CipherPolicy, DEFAULT_CIPHER_POLICY } from '../delivery/ciphers.ts';
import { hmacSignerAt } from '../delivery/signing.ts';
import type { ClientIdentity, DeliveryRequest, TlsFacts } from '../delivery/types.ts';
import type { AttemptTls, ClaimedDelivery } from '../store/types.ts';

type Endpoint = ClaimedDelivery['endpoint'];

/**
 * Builds the signed request of a claimed row. Everything derived from an endpoint row (TLS settings,
 * decoded secrets) is built once per row object, which the rows of one claim share, instead of per
 * attempt: the client memoises pools and validated policies on these objects (profiled in
 * bench/dispatch.ts).
 */
export function createRequestBuilder(opts: { signingKeys?: () => string[]; cipherPolicy?: CipherPolicy }) {
  const tlsSettings = new WeakMap<Endpoint, DeliveryRequest['tls']>();
  function tlsSettingsOf(e: Endpoint): DeliveryRequest['tls'] {
    let tls = tlsSettings.get(e);
    if (tls === undefined) {
      const identity: ClientIdentity | undefined =
        e.clientCertPem && e.clientKeyPem
          ? { certPem: e.clientCertPem, keyPem: e.clientKeyPem, chainPem: e.clientCertPem }
          : undefined;
      tls = {
        ...(e.serverCaPem ? { serverCaPem: e.serverCaPem } : {}),
        ...(identity ? { clientIdentity: identity } : {}),
        ...(e.tlsPolicy ? { cipherPolicy: { ...(opts.cipherPolicy ?? DEFAULT_CIPHER_POLICY), ...e.tlsPolicy } } : {}),
      };
      tlsSettings.set(e, tls);
    }
    return tls;
  }

  /**
   * Signers with their secrets decoded once: per endpoint row until its earliest secret expires, and
   * one for the platform's Ed25519 keys until they change.
   */
  const hmacSigners = new WeakMap<Endpoint, { until: number; sign: Signer }>();
  let ed25519Signer: { keys: string; sign: Signer } | undefined;
  function signerFor(e: Endpoint, at: number): Signer {
    if (e.signing === 'ed25519') {
      const keys = opts.signingKeys?.() ?? [];
      if (keys.length === 0) throw new Error(`endpoint ${e.id} has no signing key`);
      const joined = keys.join(' ');
      if (ed25519Signer?.keys !== joined) ed25519Signer = { keys: joined, sign: createSigner(keys) };
      return ed25519Signer.sign;
    }
    let signer = hmacSigners.get(e);
    if (signer === undefined || at >= signer.until) {
      signer = hmacSignerAt(e, at);
      hmacSigners.set(e, signer);
    }
    return signer.sign;
  }

  /** The request for an attempt started at `startedAt`; throws when it cannot be signed. */
  return function requestFor(d: ClaimedDelivery, startedAt: number): DeliveryRequest {
    const e = d.endpoint;
    const timestamp = Math.floor(startedAt / 1000);
    // Signed ahead by the store's thread when that holds for this instant (delivery/signing.ts).
    const p = d.presigned;
    const signature =
      p !== undefined && p.timestamp === timestamp && startedAt < p.until
        ? p.value
        : signerFor(e, startedAt)(d.message.id, timestamp, d.message.payload);
    return {
      url: e.url,
      headers: {
        ...e.headers,
        'content-type': 'application/json',
        'webhook-id': d.message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      },
      body: d.message.payload,
      tls: tlsSettingsOf(e),
      allowHttp: e.allowHttp,
    };
  };
}

/**
 * The recorded TLS facts of an attempt. The client shares one frozen facts object per connection, so
 * the record is built once per connection too (and a batch of outcomes sent to the store thread
 * carries it once), instead of a fresh object per delivery.
 */
const attemptTlsRecords = new WeakMap<TlsFacts, AttemptTls>();
export function attemptTlsOf(t: TlsFacts): AttemptTls {
  let record = attemptTlsRecords.get(t);
  if (record === undefined) {
    record = Object.freeze({
      protocol: t.protocol,
      cipher: t.cipher,
      clientCertificateSent: t.clientCertificateSent,
      ...(t.peerFingerprintSha256 ? { peerFingerprintSha256: t.peerFingerprintSha256 } : {}),
    });
    attemptTlsRecords.set(t, record);
  }
  return record;
}
