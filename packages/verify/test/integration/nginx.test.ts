import { needTools, startNginxHttp } from '@hookwarden/testkit';
import { proxyScenarios } from './scenarios.ts';
import { toolkitVerifier } from './verifier.ts';

proxyScenarios(
  {
    kind: 'nginx',
    start: startNginxHttp,
    // nginx connects to the app from 127.0.0.2 (proxy_bind); the spoofing client uses 127.0.0.1.
    proxySource: '127.0.0.2',
    spoofSource: '127.0.0.1',
    refusesWithStatus: 400,
    verifier: (trusted, m) => toolkitVerifier('nginx', trusted, m),
    check: (m) => ({ subjects: [m.platformDn], fingerprints: [m.platform.sha1Hex] }),
  },
  needTools('nginx'),
);
