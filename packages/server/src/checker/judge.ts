import { classifyError } from '../delivery/classify.ts';
import { type FindingCode, finding } from './findings.ts';
import type { ProbeResult } from './probe.ts';
import type { CheckReport, Finding } from './types.ts';

const EXPIRY_WARNING_DAYS = 21;
/** The failure of a probe that was never started because the check's time bound had passed. */
export const NOT_RUN = 'not run: time bound reached';
/** Findings that already say why the dispatcher's handshake fails. */
const EXPLAINS_HANDSHAKE_FAILURE = new Set([
  'HW_CHECK_NO_COMMON_PROTOCOL',
  'HW_CHECK_NO_COMMON_CIPHER',
  'HW_CHECK_CLIENT_CERT_REJECTED',
]);

/**
 * Why the handshake made exactly as the dispatcher makes it failed, in the delivery client's own
 * words (`tls_no_common_protocol: …`), so the report names the failure every delivery would log.
 */
export function dispatcherFailure(p: ProbeResult, hasIdentity = true): string {
  const failure = p.failure ?? { kind: 'tls', message: 'the handshake did not complete' };
  const err = Object.assign(new Error(failure.message), failure.code ? { code: failure.code } : {});
  const facts = {
    negotiated: p.view !== undefined,
    certificateRequested: Array.isArray(p.view?.certificateRequest),
    // Without the platform's identity there was no certificate to send when asked.
    ...(hasIdentity ? {} : { clientCertificateSent: false }),
  };
  const classified = classifyError(err, { facts });
  return `${classified.kind}: ${classified.message}`;
}

/** Whether the failure is only that this check, run without the platform's identity, sent no certificate. */
const needsIdentity = (why: string, hasIdentity: boolean) =>
  !hasIdentity && why.startsWith('tls_client_certificate_rejected');

function dispatcherHandshakeFinding(p: ProbeResult, hasIdentity: boolean, errorsAbove: boolean, f: Judge): Finding {
  const why = dispatcherFailure(p, hasIdentity);
  // Without the platform's identity the check cannot present what a delivery presents: requiring a
  // certificate is right, and only a check with the identity can tell whether ours is accepted.
  if (needsIdentity(why, hasIdentity)) {
    return f(
      'HW_CHECK_IDENTITY_NEEDED',
      `the server requires a client certificate and this check sent none (it was run without the platform's identity), so it could not test a delivery: ${why}`,
    );
  }
  return f(
    'HW_CHECK_DELIVERY_HANDSHAKE_FAILED',
    `the handshake made exactly as the dispatcher makes it failed, so no delivery can succeed: ${why}`,
    errorsAbove ? 'fix the errors above; every delivery makes this same handshake' : undefined,
  );
}

type Judge = (code: FindingCode, message: string, fix?: string) => Finding;

/** Turns the measured facts of a report into findings, each with what to change. */
export function judge(
  report: CheckReport,
  probes: { versionProbes: ProbeResult[]; dispatcher: ProbeResult; hasIdentity: boolean },
): Finding[] {
  const out: Finding[] = [];
  const server = report.server?.software;
  const f: Judge = (code, message, fix) => finding(code, message, fix, server);
  const all = [...probes.versionProbes, probes.dispatcher];
  const spoke = all.some((p) => p.view !== undefined || p.handshake);
  if (!spoke) {
    if (all.some((p) => p.failure?.kind === 'plain_http')) {
      return [f('HW_CHECK_PLAIN_HTTP', `port ${report.port} answers plain HTTP, not TLS`)];
    }
    if (all.some((p) => p.failure?.kind === 'not_tls')) {
      return [f('HW_CHECK_NOT_TLS', `port ${report.port} does not answer with TLS`)];
    }
    if (all.every((p) => p.failure?.kind === 'timeout')) {
      return [f('HW_CHECK_TLS_TIMEOUT', 'the server accepted the connection but never answered the TLS handshake')];
    }
  }

  const inPolicy = report.tls.protocols.filter((p) => p.inPolicy);
  if (inPolicy.every((p) => p.accepted === false) || (!spoke && inPolicy.every((p) => p.accepted !== true))) {
    const names = inPolicy.map((p) => p.version).join(', ');
    const errors = [...new Set(inPolicy.map((p) => p.error).filter(Boolean))].join('; ');
    out.push(
      f(
        'HW_CHECK_NO_COMMON_PROTOCOL',
        `the server accepts none of the versions the dispatcher speaks (${names})${errors ? `: ${errors}` : ''}`,
      ),
    );
  } else if (report.tls.ciphers.length > 0 && report.tls.ciphers.every((c) => c.accepted.length === 0)) {
    out.push(f('HW_CHECK_NO_COMMON_CIPHER', 'the server accepts none of the cipher suites the dispatcher offers'));
  }
  const legacy = report.tls.protocols.filter(
    (p) => !p.inPolicy && p.accepted === true && (p.version === 'TLSv1' || p.version === 'TLSv1.1'),
  );
  if (legacy.length > 0) {
    out.push(f('HW_CHECK_LEGACY_PROTOCOL', `the server still accepts ${legacy.map((p) => p.version).join(' and ')}`));
  }
  if (report.tls.protocols.find((p) => p.version === 'TLSv1.3')?.accepted === false && spoke) {
    out.push(f('HW_CHECK_NO_TLS13', 'the server does not accept TLS 1.3'));
  }

  const chain = report.chain;
  const leaf = chain.certificates[0];
  if (chain.complete === false) {
    out.push(
      f(
        'HW_CHECK_CHAIN_INCOMPLETE',
        `the server does not send its intermediate certificate: nothing it sends, and no trusted CA, issued '${
          chain.certificates[chain.certificates.length - 1]?.issuer ?? leaf?.issuer
        }'`,
      ),
    );
  } else if (chain.trusted === false) {
    out.push(
      f('HW_CHECK_CHAIN_UNTRUSTED', `the server's certificate is not trusted: ${chain.trustError ?? 'unknown reason'}`),
    );
  }
  if (chain.ordered === false) {
    out.push(
      f('HW_CHECK_CHAIN_ORDER', 'the server sends its certificates out of order (each must be followed by its issuer)'),
    );
  }
  if (chain.hostnameMatch === false) {
    out.push(f('HW_CHECK_HOSTNAME_MISMATCH', `the server's certificate is not valid for '${report.host}'`));
  }
  if (leaf) {
    const nowMs = Date.parse(report.checkedAt);
    if (leaf.daysToExpiry < 0 || Date.parse(leaf.notAfter) < nowMs) {
      out.push(f('HW_CHECK_CERT_EXPIRED', `the server's certificate expired on ${leaf.notAfter}`));
    } else if (Date.parse(leaf.notBefore) > nowMs) {
      out.push(f('HW_CHECK_CERT_NOT_YET_VALID', `the server's certificate is valid only from ${leaf.notBefore}`));
    } else if (leaf.daysToExpiry < EXPIRY_WARNING_DAYS) {
      out.push(f('HW_CHECK_CERT_EXPIRING', `the server's certificate expires in ${leaf.daysToExpiry} days`));
    }
    if ((leaf.keyType === 'rsa' || leaf.keyType === 'rsa-pss') && (leaf.keyBits ?? 0) < 2048) {
      out.push(f('HW_CHECK_WEAK_KEY', `the server's RSA key has ${leaf.keyBits} bits`));
    }
  }

  const auth = report.clientAuth;
  if (spoke) {
    if (auth.mode === 'none') {
      out.push(
        f(
          'HW_CHECK_CLIENT_CERT_NOT_REQUESTED',
          'the server does not request a client certificate, so it cannot tell the platform from anyone else',
        ),
      );
    } else if (auth.mode === 'optional') {
      out.push(
        f(
          'HW_CHECK_CLIENT_CERT_OPTIONAL',
          'the server requests a client certificate but lets requests without one through',
        ),
      );
    } else if (auth.mode === 'unknown') {
      out.push(
        f(
          'HW_CHECK_CLIENT_AUTH_UNKNOWN',
          'could not tell whether the server requests a client certificate (no readable handshake, no refusal without one)',
        ),
      );
    }
  }
  if (auth.platformCaAdvertised === false) {
    out.push(
      f(
        'HW_CHECK_PLATFORM_CA_NOT_ADVERTISED',
        `the CAs the server names for client certificates do not include the platform's CA (it names: ${auth.caNames.join('; ')})`,
      ),
    );
  }
  const rejected =
    auth.withPlatformCertificate.attempted && auth.withPlatformCertificate.ok === false && auth.mode !== 'none';
  if (rejected) {
    out.push(
      f(
        'HW_CHECK_CLIENT_CERT_REJECTED',
        `the server refused the platform's client certificate: ${auth.withPlatformCertificate.error ?? 'no reason given'}`,
      ),
    );
  }

  // A finding above may already name the cause; otherwise the failed handshake is its own error.
  const explained = out.some((f) => EXPLAINS_HANDSHAKE_FAILURE.has(f.code));
  // A probe the time bound kept from running proves nothing (HW_CHECK_TIME_BOUND says so).
  const notRun = probes.dispatcher.failure?.message === NOT_RUN;
  if (!probes.dispatcher.handshake && !explained && !notRun) {
    out.push(
      dispatcherHandshakeFinding(
        probes.dispatcher,
        probes.hasIdentity,
        out.some((x) => x.severity === 'error'),
        f,
      ),
    );
  }

  if (report.http.attempted) {
    const error = report.http.error;
    if (error !== undefined && needsIdentity(error, probes.hasIdentity)) {
      // Told once, by HW_CHECK_IDENTITY_NEEDED: the test event went out as the handshake did.
      if (!out.some((x) => x.code === 'HW_CHECK_IDENTITY_NEEDED')) {
        out.push(f('HW_CHECK_IDENTITY_NEEDED', `the signed test event was refused without a certificate: ${error}`));
      }
    } else if (error !== undefined) {
      // The test event travels like a delivery: a TLS refusal is the consequence of the errors above.
      const tlsErrorsAbove = error.startsWith('tls_') && out.some((x) => x.severity === 'error');
      out.push(
        f(
          'HW_CHECK_HTTP_FAILED',
          `the signed test event could not be delivered: ${error}`,
          tlsErrorsAbove ? 'fix the errors above; the test event is sent exactly as a delivery is' : undefined,
        ),
      );
    } else if (
      !rejected &&
      report.http.statusCode !== undefined &&
      (report.http.statusCode < 200 || report.http.statusCode > 299)
    ) {
      out.push(f('HW_CHECK_HTTP_STATUS', `the receiver answered the signed test event with ${report.http.statusCode}`));
    }
  }
  return out;
}
