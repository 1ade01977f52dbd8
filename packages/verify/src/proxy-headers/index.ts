import { awsAlb } from './aws-alb.ts';
import { caddy } from './caddy.ts';
import { envoy } from './envoy.ts';
import type { ProxyHeaderParser, ProxyKind } from './facts.ts';
import { haproxy } from './haproxy.ts';
import { nginx } from './nginx.ts';
import { rfc9440 } from './rfc9440.ts';
import { traefik } from './traefik.ts';

export { type CustomHeaderMap, customParser } from './custom.ts';
export { envoyParser, MAX_XFCC_ELEMENTS, parseXfcc } from './envoy.ts';
export type { ProxyCertFacts, ProxyHeaderParser, ProxyKind } from './facts.ts';

export const PROXY_PARSERS: Readonly<Record<ProxyKind, ProxyHeaderParser>> = {
  nginx,
  envoy,
  haproxy,
  caddy,
  traefik,
  'aws-alb': awsAlb,
  rfc9440,
};
