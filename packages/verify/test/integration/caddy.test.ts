import { needTools, startCaddy } from '@hookwarden/testkit';
import { proxyScenarios } from './scenarios.ts';
import { toolkitVerifier } from './verifier.ts';

proxyScenarios(
  {
    kind: 'caddy',
    start: startCaddy,
    // Caddy 2.6 cannot pick its source address: it connects from 127.0.0.1, the spoofer from 127.0.0.3.
    proxySource: '127.0.0.1',
    spoofSource: '127.0.0.3',
    verifier: (trusted, m) => toolkitVerifier('caddy', trusted, m),
    check: (m) => ({ fingerprints: [m.platform.sha256Hex] }),
  },
  needTools('caddy'),
);
