import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { which } from './tools.ts';

/** Debian's chromium (installed by .ci/install-tools). */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether a URL is on loopback (or a page of the browser's own), the only places a test browser may go. */
export function isLoopbackUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'about:' || u.protocol === 'data:' || u.protocol === 'blob:') return true;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface Chromium {
  browser: Browser;
  /** A fresh context (its own cookies and storage) whose every request off loopback is aborted. */
  context(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Requests the contexts aborted because they left loopback: a test asserts it stays empty. */
  refused: string[];
  close(): Promise<void>;
}

/**
 * A headless Chromium for tests, on a fresh profile (Playwright makes one per launch and removes
 * it on close) and with nothing that reaches the network by itself (no updates, sync, background
 * fetches, QUIC): host names other than localhost do not resolve, and the contexts abort any
 * request that is not for loopback. playwright-core is loaded here only, not by every test.
 */
export async function startChromium(): Promise<Chromium> {
  const executablePath = which('chromium') ?? CHROMIUM;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-proxy-server',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
  const refused: string[] = [];
  const contexts: BrowserContext[] = [];
  return {
    browser,
    refused,
    async context(options = {}) {
      const context = await browser.newContext(options);
      contexts.push(context);
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (isLoopbackUrl(url)) return route.continue();
        refused.push(url);
        return route.abort('blockedbyclient');
      });
      return context;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
    },
  };
}
