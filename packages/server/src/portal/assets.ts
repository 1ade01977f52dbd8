import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The portal's static files, shipped in the package's own `assets/` folder, two levels above this
 * module both in src/portal/ and in dist/portal/ (so the compiled build needs no copy step). Read
 * once; each is served under its content's hash, so browsers may keep it for good.
 */
export interface Asset {
  body: Buffer;
  type: string;
  /** The URL pages link to. */
  href: string;
}

const TYPES: Record<string, string> = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };

function load(name: string): Asset {
  const body = readFileSync(new URL(`../../assets/${name}`, import.meta.url));
  const version = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  return { body, type: TYPES[name.split('.').pop() as string] as string, href: `/portal/assets/${name}?v=${version}` };
}

export const ASSETS: ReadonlyMap<string, Asset> = new Map(['portal.css', 'portal.js'].map((n) => [n, load(n)]));

export const assetHref = (name: 'portal.css' | 'portal.js'): string => (ASSETS.get(name) as Asset).href;
