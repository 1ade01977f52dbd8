import { needTools, startHaproxy } from '@hookwarden/testkit';
import { proxyScenarios } from './scenarios.ts';
import { toolkitVerifier } from './verifier.ts';

proxyScenarios(
  {
    kind: 'haproxy',
    start: startHaproxy,
    // HAProxy connects to the app from 127.0.0.2 (`source`); the spoofing client uses 127.0.0.1.
    proxySource: '127.0.0.2',
    spoofSource: '127.0.0.1',
    verifier: (trusted, m) => toolkitVerifier('haproxy', trusted, m),
    check: (m) => ({ subjects: [m.platformDn], fingerprints: [m.platform.sha256Hex] }),
  },
  needTools('haproxy'),
);
