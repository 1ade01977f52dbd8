import { DEFAULT_CIPHER_POLICY, nodeCipherString, TLS_VERSIONS } from '../delivery/ciphers.ts';
import { analyzeChain } from './chain.ts';
import { decideClientAuth, platformCaNames } from './client-auth.ts';
import { tcpConnect, withDeadline } from './deadline.ts';
import { resolveForCheck } from './dns.ts';
import { finding, verdictOf } from './findings.ts';
import { judge, NOT_RUN } from './judge.ts';
import { PROBE_TIMEOUT_MS, type ResolvedOptions, resolveOptions } from './options.ts';
import { mapLimit } from './pool.ts';
import { type ProbeResult, type ProbeSpec, probe } from './probe.ts';
import { recognizeServer } from './server-software.ts';
import { deliverTestEvent, probeRequest } from './test-event.ts';
import type { CheckOptions, CheckReport, TestEventResult } from './types.ts';
import { ANY_SUITE, acceptedAt, inPolicy, suiteAcceptedAt, WIRE_VERSION } from './versions.ts';

function emptyReport(o: ResolvedOptions, started: number): CheckReport {
  return {
    schema: 1,
    url: o.parsed.href,
    host: o.host,
    port: o.port,
    checkedAt: new Date(started).toISOString(),
    durationMs: 0,
    verdict: 'incompatible',
    dns: { answers: [] },
    connect: { ok: false },
    tls: { protocols: [], ciphers: [] },
    chain: { source: 'none', certificates: [], trusted: null, complete: null, ordered: null, hostnameMatch: null },
    clientAuth: {
      mode: 'unknown',
      detectedBy: [],
      caNames: [],
      platformCaAdvertised: null,
      withPlatformCertificate: { attempted: false, ok: null },
    },
    http: { attempted: false },
    findings: [],
  };
}

/**
 * Checks whether the dispatcher can deliver to `url`, and why not. Throws only for bad options;
 * whatever the network does becomes part of the report.
 */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const o = resolveOptions(options);
  const now = o.now;
  const started = now();
  const deadline = started + o.timeoutMs;
  const remaining = (): number => deadline - now();
  const report = emptyReport(o, started);
  const policy = o.cipherPolicy ?? DEFAULT_CIPHER_POLICY;
  let timedOut = false;

  const finish = (): CheckReport => {
    if (timedOut) {
      report.findings.push(finding('HW_CHECK_TIME_BOUND', `the check reached its time bound of ${o.timeoutMs} ms`));
    }
    report.durationMs = Math.max(0, now() - started);
    report.verdict = verdictOf(report.findings);
    return report;
  };

  if (o.parsed.protocol !== 'https:') {
    report.findings.push(
      finding('HW_CHECK_URL_NOT_HTTPS', 'the URL is plain http://: callbacks would travel unencrypted'),
    );
    return finish();
  }

  const resolved = await withDeadline(
    resolveForCheck(o.host, { allowPrivateTargets: o.allowPrivateTargets === true, lookup: o.lookup }),
    remaining(),
  );
  if (resolved === undefined) timedOut = true;
  const { dns, dial, refused } = resolved ?? {
    dns: { answers: [], error: `no DNS answer for ${o.host} within the time bound` },
  };
  report.dns = dns;
  if (dns.error) {
    report.findings.push(finding('HW_CHECK_DNS_FAILED', dns.error));
    return finish();
  }
  if (refused !== undefined) {
    report.findings.push(
      finding(
        'HW_CHECK_ADDRESS_FORBIDDEN',
        `the dispatcher refuses ${o.host}: ${refused}; nothing was resolved or dialled`,
      ),
    );
    return finish();
  }
  if (dial === undefined) {
    const bad = dns.answers.filter((a) => !a.allowed).map((a) => `${a.address} (${a.reason})`);
    report.findings.push(
      finding(
        'HW_CHECK_ADDRESS_FORBIDDEN',
        `the dispatcher refuses to connect to ${bad.join(', ')}; nothing was dialled`,
      ),
    );
    return finish();
  }

  const connectStart = now();
  const tcp = await tcpConnect(dial, o.port, Math.min(PROBE_TIMEOUT_MS, Math.max(1, remaining())));
  report.connect = tcp.ok
    ? { address: dial, ok: true, timeMs: Math.max(0, now() - connectStart) }
    : { address: dial, ok: false, error: tcp.error ?? 'failed' };
  if (!tcp.ok) {
    report.findings.push(finding('HW_CHECK_CONNECT_FAILED', `cannot connect to ${dial} port ${o.port}: ${tcp.error}`));
    return finish();
  }

  const base = {
    address: dial,
    port: o.port,
    ...(o.host === dial ? {} : { servername: o.host }),
    ...(o.serverCaPem === undefined ? {} : { ca: o.serverCaPem }),
    tap: true,
  };
  const run = (spec: Omit<ProbeSpec, 'timeoutMs'>): Promise<ProbeResult> => {
    const left = remaining();
    if (left <= 0) {
      timedOut = true;
      return Promise.resolve({
        handshake: false,
        peerChain: [],
        failure: { kind: 'timeout', message: NOT_RUN },
      });
    }
    return probe({ ...spec, timeoutMs: Math.min(PROBE_TIMEOUT_MS, left) });
  };
  const getRequest = probeRequest(o.parsed);

  // Phase 1: which versions the server speaks (TLS 1.2 and 1.3 also without a client certificate,
  // as client-authentication probes) and one handshake exactly as the dispatcher makes it.
  const dispatcherSpec: Omit<ProbeSpec, 'timeoutMs'> = {
    ...base,
    minVersion: policy.minVersion,
    maxVersion: policy.maxVersion,
    ciphers: nodeCipherString(policy),
    ...(o.clientIdentity ? { identity: o.clientIdentity } : {}),
    request: getRequest,
  };
  const phase1 = await mapLimit(
    [
      ...TLS_VERSIONS.map(
        (v): Omit<ProbeSpec, 'timeoutMs'> => ({
          ...base,
          minVersion: v,
          maxVersion: v,
          ciphers: ANY_SUITE,
          ...(v === 'TLSv1.2' || v === 'TLSv1.3' ? { request: getRequest } : {}),
        }),
      ),
      dispatcherSpec,
    ],
    o.concurrency,
    run,
  );
  const versionProbes = phase1.slice(0, TLS_VERSIONS.length);
  const dispatcher = phase1[TLS_VERSIONS.length]!;

  report.tls.protocols = TLS_VERSIONS.map((version, i) => {
    const p = versionProbes[i]!;
    const accepted = acceptedAt(p, version);
    const row: CheckReport['tls']['protocols'][number] = { version, accepted, inPolicy: inPolicy(version, policy) };
    const chosen = TLS_VERSIONS.find((v) => WIRE_VERSION[v] === p.view?.version);
    if (accepted === false && chosen) row.error = `the server answered with ${chosen}`;
    else if (accepted !== true && p.failure) row.error = p.failure.message;
    return row;
  });
  if (dispatcher.handshake && dispatcher.protocol && dispatcher.cipher) {
    report.tls.negotiated = { protocol: dispatcher.protocol, cipher: dispatcher.cipher };
  }

  // Phase 2: for each version of the policy the server speaks, one connection per offered suite;
  // the signed test event goes at the same time.
  const enumerated = TLS_VERSIONS.filter((v, i) => inPolicy(v, policy) && report.tls.protocols[i]!.accepted === true);
  const suiteSpecs = enumerated.flatMap((version) =>
    (version === 'TLSv1.3' ? policy.tls13Suites : policy.ciphers).map((suite) => ({
      version,
      suite,
      spec: { ...base, minVersion: version, maxVersion: version, ciphers: suite } as Omit<ProbeSpec, 'timeoutMs'>,
    })),
  );
  const httpTask = async (): Promise<TestEventResult | undefined> => {
    if (!dispatcher.handshake) return undefined;
    if (o.sendTestEvent) {
      try {
        const sent = await withDeadline(o.sendTestEvent(o.parsed.href), remaining());
        if (sent) return sent;
        timedOut = true;
        return { latencyMs: Math.max(0, o.timeoutMs), error: 'no answer within the time bound' };
      } catch (err) {
        return { latencyMs: 0, error: String((err as Error)?.message ?? err) };
      }
    }
    return deliverTestEvent({
      url: o.parsed.href,
      identity: o.clientIdentity,
      serverCaPem: o.serverCaPem,
      cipherPolicy: policy,
      allowPrivateTargets: o.allowPrivateTargets === true,
      lookup: o.lookup,
      now,
      timeoutMs: Math.min(PROBE_TIMEOUT_MS, Math.max(1, remaining())),
      secret: o.testEventSecret,
    });
  };
  const [suiteResults, testEvent] = await Promise.all([
    mapLimit(suiteSpecs, o.concurrency, (s) => run(s.spec)),
    httpTask(),
  ]);
  report.tls.ciphers = enumerated.map((version) => {
    const rows = suiteSpecs.map((s, i) => ({ ...s, r: suiteResults[i]! })).filter((s) => s.version === version);
    return {
      version,
      accepted: rows.filter((s) => suiteAcceptedAt(s.r, version) === true).map((s) => s.suite),
      rejected: rows.filter((s) => suiteAcceptedAt(s.r, version) === false).map((s) => s.suite),
    };
  });

  // The chain exactly as sent, from whichever probe read a Certificate message.
  const withChain = [dispatcher, versionProbes[3]!, versionProbes[2]!].find((p) => p.view?.certificates?.length);
  const withTrust = [dispatcher, versionProbes[3]!, versionProbes[2]!].find((p) => p.handshake);
  const chainDer = withChain?.view?.certificates ?? withTrust?.peerChain ?? [];
  if (chainDer.length > 0) {
    report.chain = analyzeChain({
      der: chainDer,
      source: withChain ? 'handshake' : 'peer',
      host: o.host,
      ...(o.serverCaPem === undefined ? {} : { serverCaPem: o.serverCaPem }),
      ...(withTrust?.authorized === undefined ? {} : { authorized: withTrust.authorized }),
      ...(withTrust?.authorizationError === undefined ? {} : { authorizationError: withTrust.authorizationError }),
      nowMs: now(),
    });
  }

  report.clientAuth = decideClientAuth({
    withoutCertificate: [versionProbes[2]!, versionProbes[3]!].filter((p) => p.view !== undefined || p.handshake),
    ...(o.clientIdentity ? { withPlatformCertificate: dispatcher } : {}),
    platformNames: platformCaNames(o.platformCaPem, o.clientIdentity),
  });

  if (testEvent) {
    report.http = { attempted: true, latencyMs: testEvent.latencyMs };
    if (testEvent.statusCode !== undefined) report.http.statusCode = testEvent.statusCode;
    if (testEvent.error !== undefined) report.http.error = testEvent.error;
  }

  const server = recognizeServer([dispatcher, ...versionProbes].map((p) => p.response?.text));
  if (server) report.server = server;
  report.findings.push(...judge(report, { versionProbes, dispatcher, hasIdentity: o.clientIdentity !== undefined }));
  if (phase1.concat(suiteResults).some((p) => p.failure?.message === NOT_RUN)) timedOut = true;
  return finish();
}
