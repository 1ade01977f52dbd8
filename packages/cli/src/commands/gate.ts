import { createVerifier, IpSet } from '@hookwarden/verify';
import { parseCommandArgs } from '../args.ts';
import { type GateFlags, loadGateConfig } from '../gate/config.ts';
import { jsonLines } from '../gate/log.ts';
import { createGate } from '../gate/server.ts';
import type { Command } from '../main.ts';
import { stopRequested } from '../stop-request.ts';

const HELP = `Usage: hookwarden gate --upstream URL [options]

A verifying reverse proxy: only callbacks that pass the policy reach your app, each with a
Hookwarden-Verified header holding the verified facts (JSON). Everything else is answered with the
error's status and {code, detail}. One JSON log line per decision on standard output.

Options:
  --listen [HOST:]PORT     where to listen (default 127.0.0.1:8080)
  --upstream URL           your app (required)
  --config FILE            JSON: { listen, upstream, tls: {cert, key, clientCa}, maxBodyBytes,
                           upstreamConnections, maxBufferedBytes, maxClientConnections,
                           bodyTimeoutSeconds, replayDir, policy }
  --tls-cert FILE          terminate TLS here with this certificate chain ...
  --tls-key FILE           ... and key, requesting a client certificate ...
  --client-ca FILE         ... that must chain to these CAs (the platform's CA bundle); behind
                           a proxy, the CAs a forwarded certificate must chain to
  --trust-proxy CIDR       behind a proxy: trust its headers from these addresses (repeatable)
  --proxy-headers KIND     nginx | haproxy | caddy | envoy | traefik | aws-alb | rfc9440
  --xfcc-elements N        envoy: the x-forwarded-client-cert elements that arrive (default 1: the
                           edge Envoy uses SANITIZE_SET; add one per Envoy after it)
  --require-subject DN     client certificate subject must be one of these (repeatable)
  --require-dns NAME       client certificate must name one of these DNS names (repeatable)
  --pin FINGERPRINT        client certificate must have one of these fingerprints (repeatable)
  --allow-ip CIDR          client address must be in one of these ranges (repeatable)
  --secret whsec_...       Standard Webhooks signing secret (repeatable, for rotation)
  --public-key whpk_...    Standard Webhooks Ed25519 public key (repeatable)
  --tolerance SECONDS      signature timestamp tolerance (default 300)
  --replay-dir DIR         remember accepted signed messages in DIR, shared by every gate on this
                           host naming it and kept across restarts (default: in this process's
                           memory, lost on restart)
  --trust-document URL     follow the platform's trust document: its CA bundle and current/next
                           pins for the client certificate, its egress CIDRs as the IP allowlist
                           (unless --allow-ip), its Ed25519 keys alongside --secret/--public-key
  --max-body BYTES         largest body buffered for signature checks (default 1048576) -> 413
  --max-buffered BYTES     most bytes of bodies buffered at once, all requests together
                           (default 67108864) -> 503
  --max-client-connections N
                           most connections one client address (IPv6: /64) keeps open; trusted
                           proxies are exempt (default 32); more are closed at once
  --body-timeout SECONDS   longest a body read for a signature check may take (default 30) -> 408
  --upstream-connections N most connections kept open to the upstream at once; further requests
                           wait for a free one (default 64)
  -h, --help               show this help

Secrets on a command line are visible to other users (ps): prefer --config with a 0600 file.
`;

function parse(argv: string[]) {
  return parseCommandArgs('gate', HELP, {
    args: argv,
    options: {
      config: { type: 'string' },
      listen: { type: 'string' },
      upstream: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'client-ca': { type: 'string' },
      'trust-proxy': { type: 'string', multiple: true },
      'proxy-headers': { type: 'string' },
      'require-subject': { type: 'string', multiple: true },
      'require-dns': { type: 'string', multiple: true },
      pin: { type: 'string', multiple: true },
      'allow-ip': { type: 'string', multiple: true },
      secret: { type: 'string', multiple: true },
      'public-key': { type: 'string', multiple: true },
      tolerance: { type: 'string' },
      'trust-document': { type: 'string' },
      'max-body': { type: 'string' },
      'upstream-connections': { type: 'string' },
      'replay-dir': { type: 'string' },
      'max-buffered': { type: 'string' },
      'max-client-connections': { type: 'string' },
      'body-timeout': { type: 'string' },
      'xfcc-elements': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export const command: Command = {
  async run(argv) {
    const parsed = parse(argv);
    if (typeof parsed === 'number') return parsed;
    const { help: _, ...flags } = parsed.values;
    const config = loadGateConfig(flags as GateFlags);
    const verifier = createVerifier(config.policy);
    const log = jsonLines((line) => process.stdout.write(line));
    if (config.policy.signature === undefined) {
      // Legal (a proxy in front may check signatures) but rarely meant: say so before serving.
      log({
        msg: 'no signature check',
        level: 'warn',
        detail:
          'requests are forwarded without checking that the platform signed them: give --secret or --public-key (or policy.signature in --config)',
      });
    }
    if (verifier.trustDocument) {
      // Until the first copy arrives every request is refused (503): the gate never fails open.
      const ok = await verifier.trustDocument.refresh();
      log({ msg: 'trust document', ok, ...(ok ? {} : { error: verifier.trustDocument.lastError }) });
    }
    const gate = createGate({
      verifier,
      upstream: config.upstream,
      tls: config.tls,
      maxBodyBytes: config.maxBodyBytes,
      upstreamConnections: config.upstreamConnections,
      maxBufferedBytes: config.maxBufferedBytes,
      maxClientConnections: config.maxClientConnections,
      bodyTimeoutMs: config.bodyTimeoutMs,
      // createVerifier has checked these addresses already.
      proxies: IpSet.parse(config.policy.trustedProxies ?? [], (_, problem) => new Error(problem)),
      log,
    });
    await new Promise<void>((resolve, reject) => {
      gate.server.once('error', reject);
      gate.server.listen(config.listen.port, config.listen.host, () => resolve());
    });
    const address = gate.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.listen.port;
    log({ msg: 'listening', host: config.listen.host, port, tls: config.tls !== undefined, upstream: config.upstream });
    const signal = await stopRequested();
    await gate.close();
    log({ msg: 'stopped', signal });
    log.flush?.();
    return 0;
  },
};
