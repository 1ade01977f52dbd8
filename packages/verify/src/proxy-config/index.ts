import { caddyConfig } from './caddy.ts';
import { haproxyConfig } from './haproxy.ts';
import { nginxConfig } from './nginx.ts';
import { type CheckedOptions, checkOptions, optionError, type ProxyConfigOptions } from './options.ts';

export { CLEARED_HEADERS } from './headers.ts';
export { standaloneNginx } from './nginx.ts';
export type { ProxyConfigMode, ProxyConfigOptions } from './options.ts';
export { ProxyConfigError } from './options.ts';

export type ProxyConfigKind = 'nginx' | 'haproxy' | 'caddy';

const GENERATORS: Record<ProxyConfigKind, (o: CheckedOptions) => string> = {
  nginx: nginxConfig,
  haproxy: haproxyConfig,
  caddy: caddyConfig,
};

export const PROXY_CONFIG_KINDS = Object.keys(GENERATORS) as ProxyConfigKind[];

/** The receiver's proxy configuration; throws ProxyConfigError HW_PROXY_CONFIG_INVALID naming the bad field. */
export function generateProxyConfig(kind: ProxyConfigKind, options: ProxyConfigOptions): string {
  // Own keys only: a plain lookup would find Object.prototype members such as 'toString'.
  const generate = Object.hasOwn(GENERATORS, kind) ? GENERATORS[kind] : undefined;
  if (generate === undefined) {
    throw optionError('kind', `expected one of ${PROXY_CONFIG_KINDS.join(', ')}`);
  }
  return generate(checkOptions(options));
}
