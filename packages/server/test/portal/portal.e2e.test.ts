import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type Chromium, needTools, startChromium } from '@hookwarden/testkit';
import { pino } from 'pino';
import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { callApi, startServerWithReceiver } from '../e2e/receiver.ts';
import { accessibilityProblems, screenshot } from './browser.ts';

const TOKEN = 'portal-e2e-admin-token-0123456789';
const skip = needTools('chromium');

type Server = Awaited<ReturnType<typeof startServerWithReceiver>>;

describe('the portal in Chromium', { skip }, () => {
  let s: Server;
  let chrome: Chromium;
  let base: string;
  let logged = '';
  /** Pages whose axe-core check found serious or critical problems. */
  const inaccessible: string[] = [];
  /** Every secret the tests handle: none may appear in the server's log. */
  const secrets: string[] = [TOKEN];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await callApi(base, TOKEN, method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  /** Checks the page with axe-core and keeps a screenshot of it. */
  async function inspect(page: Page, name: string): Promise<void> {
    const problems = await accessibilityProblems(page);
    if (problems.length > 0) inaccessible.push(`${name}: ${problems.join('; ')}`);
    await screenshot(page, name);
  }

  /** An application and a sign-in link to its portal, as the operator makes them. */
  async function customer(name: string, access: object = {}) {
    const app = await api('POST', '/api/v1/app', { name });
    const { url, token } = await api('POST', `/api/v1/auth/app-portal-access/${app.id}`, access);
    secrets.push(url.split('#key=')[1], token);
    return { app, url: url as string };
  }

  async function open(
    url: string,
    options: BrowserContextOptions = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await chrome.context(options);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForURL(/\/portal\/app\/app_[0-9A-Z]+\/endpoints$/);
    const cookie = (await context.cookies()).find((c) => c.name === 'hw_session');
    if (cookie) secrets.push(cookie.value);
    return { context, page };
  }

  /** A form post from the page with the session's cookies, as a forged or stale form would be sent. */
  const post = (page: Page, path: string, fields: Record<string, string>) =>
    page.evaluate(
      async ([p, f]) => {
        const res = await fetch(p as string, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(f as Record<string, string>).toString(),
          redirect: 'manual',
        });
        // A redirect (what a form that worked gets) is opaque to fetch under `manual`.
        return { status: res.status, redirected: res.type === 'opaqueredirect', text: await res.text() };
      },
      [path, fields] as const,
    );
  const csrfOf = async (page: Page) => (await page.inputValue('header form input[name="_csrf"]')) as string;

  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged += chunk.toString();
        done();
      },
    });
    s = await startServerWithReceiver({
      token: TOKEN,
      logger: pino({ level: 'info' }, sink),
      portal: { livePollMs: 250 },
    });
    base = s.server.url;
    chrome = await startChromium();
    await api('POST', '/api/v1/event-type', {
      name: 'invoice.paid',
      description: 'An invoice was paid',
      schemas: { '1': { type: 'object', properties: { id: { type: 'string' } }, examples: [{ id: 'inv_1' }] } },
    });
  });

  after(async () => {
    await chrome?.close();
    await s?.close();
  });

  test('a customer signs in by link, adds an mTLS endpoint, tests it, watches a delivery arrive, resends it and downloads the CA bundle', async () => {
    const { app, url } = await customer('Acme');
    const key = url.split('#key=')[1] as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/portal\/login#key=/, 'an absolute link');
    const context = await chrome.context();
    const page = await context.newPage();
    const seen: { url: string; referer?: string }[] = [];
    page.on('request', (r) => seen.push({ url: r.url(), referer: r.headers().referer }));
    await page.goto(url);
    await page.waitForURL(/\/endpoints$/);
    await inspect(page, 'endpoints-empty');

    // The key went once, in a form body: not in a later URL, a Referer, the history, nor the log.
    for (const r of seen.slice(1)) {
      assert.ok(!r.url.includes(key) && !r.referer?.includes(key), `${r.url} carries the key`);
    }
    // The sign-in page posted the key before it finished loading: the history keeps no entry of it.
    await page.goBack();
    assert.ok(!page.url().includes(key), 'no history entry with the key');
    const cookie = (await context.cookies()).find((c) => c.name === 'hw_session');
    assert.ok(cookie, 'a session cookie');
    secrets.push(cookie.value);
    assert.deepEqual([cookie.httpOnly, cookie.sameSite], [true, 'Strict']);
    // A link works once: opened again, it signs nobody in.
    const again = await (await chrome.context()).newPage();
    await again.goto(url);
    await again.waitForSelector('#f-key-error');
    assert.match((await again.textContent('#f-key-error')) ?? '', /used already/);

    await page.goto(`${base}/portal/app/${app.id}/endpoints`);
    await page.click('text=Add an endpoint');
    await inspect(page, 'endpoint-new');
    await page.fill('#f-url', 'not a url');
    await page.click('button:has-text("Add the endpoint")');
    await page.waitForSelector('#f-url-error');
    await inspect(page, 'endpoint-form-errors');
    await page.fill('#f-url', s.receiver.url);
    await page.fill('#f-description', 'Billing receiver');
    await page.check('input[name="eventTypes"][value="invoice.paid"]');
    await page.fill('#f-serverCa', s.pki.receiverCaPem);
    await page.click('button:has-text("Add the endpoint")');
    await page.waitForURL(/\/endpoints\/ep_[0-9A-Z]+$/);
    const epId = page.url().split('/').pop() as string;
    assert.match((await page.textContent('main')) ?? '', /Checked against your private CA/);
    await inspect(page, 'endpoint');

    await page.click('button:has-text("Test endpoint")');
    await page.waitForSelector('#verdict');
    assert.equal((await page.textContent('#verdict'))?.trim(), 'Compatible');
    assert.match((await page.textContent('main')) ?? '', /with the platform’s certificate:\s*accepted/);
    await inspect(page, 'endpoint-test');

    await page.goto(`${base}/portal/app/${app.id}/deliveries`);
    await page.evaluate(() => {
      (globalThis as unknown as { stayed: boolean }).stayed = true;
    });
    const msg = await api('POST', `/api/v1/app/${app.id}/msg`, {
      eventType: 'invoice.paid',
      payload: { id: 'inv_42' },
    });
    const row = page.locator('#deliveries tr', { hasText: msg.id });
    await row.locator('.badge.ok').waitFor();
    assert.match((await row.textContent()) ?? '', /HTTP 200 in \d+ ms · TLSv1\.[23] \S+ · client certificate sent/);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed), true, 'no reload');
    await inspect(page, 'deliveries');

    await row.locator(`a[href$="/deliveries/${msg.id}"]`).click();
    await page.waitForURL(new RegExp(`/deliveries/${msg.id}$`));
    assert.match((await page.textContent('main')) ?? '', /inv_42/);
    await inspect(page, 'message');
    const delivered = s.receiver.received.length;
    await page.click('button:has-text("Resend to")');
    await page.waitForURL(new RegExp(`/deliveries/${msg.id}$`));
    await page.goto(`${base}/portal/app/${app.id}/deliveries?endpoint=${epId}`);
    await page.locator('#deliveries tr', { hasText: msg.id }).getByText('2 attempts').waitFor();
    assert.equal(s.receiver.received.length, delivered + 1, 'resent once');
    assert.equal(s.receiver.received.at(-1)?.headers['webhook-id'], msg.id);

    await page.goto(`${base}/portal/app/${app.id}/security`);
    await inspect(page, 'security');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download the CA bundle')]);
    const downloaded = readFileSync((await download.path()) as string, 'utf8');
    const published = await (await fetch(`${base}/api/v1/trust/ca-bundle.pem`)).text();
    assert.equal(downloaded, published);
    assert.match((await page.textContent('#config-nginx')) ?? '', /ssl_verify_client on;/);

    await page.goto(`${base}/portal/app/${app.id}/event-types`);
    assert.match((await page.textContent('main')) ?? '', /An invoice was paid/);
    await inspect(page, 'event-catalog');

    // Signed out, the session is gone for good.
    await page.click('header button:has-text("Sign out")');
    await page.waitForSelector('text=You are signed out');
    await page.goto(`${base}/portal/app/${app.id}/endpoints`);
    assert.match(page.url(), /\/portal\/login$/);
    await context.close();
  });

  test('bad input stands next to its field and what was typed is kept; everything but live updates works without JavaScript', async () => {
    const { url } = await customer('No script');
    const context = await chrome.context({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(url);
    // The script does not run: the key is pasted into the form the page offers instead.
    await page.fill('#f-key', url.split('#key=')[1] as string);
    await page.click('main button:has-text("Sign in")');
    await page.waitForURL(/\/endpoints$/);
    await page.click('text=Add an endpoint');
    await page.fill('#f-url', 'ftp://files.example/hook');
    await page.fill('#f-description', 'kept as typed');
    await page.fill('#f-throttleRate', 'fast');
    await page.click('button:has-text("Add the endpoint")');
    await page.waitForSelector('#f-throttleRate-error');
    assert.equal(await page.inputValue('#f-url'), 'ftp://files.example/hook');
    assert.equal(await page.inputValue('#f-description'), 'kept as typed');
    assert.equal(await page.getAttribute('#f-throttleRate', 'aria-invalid'), 'true');
    // axe-core needs the page's script engine, which this context has off: checked with it below.
    await screenshot(page, 'endpoint-form-errors-no-script');
    await page.fill('#f-throttleRate', '');
    await page.click('button:has-text("Add the endpoint")');
    await page.waitForSelector('#f-url-error');
    assert.match((await page.textContent('#f-url-error')) ?? '', /https:\/\//);
    assert.equal(await page.inputValue('#f-description'), 'kept as typed');
    await page.fill('#f-url', s.receiver.url);
    await page.fill('#f-serverCa', s.pki.receiverCaPem);
    await page.click('button:has-text("Add the endpoint")');
    await page.waitForURL(/\/endpoints\/ep_/);
    // Deleting asks on a page of its own.
    await page.click('text=Delete');
    await page.click('button:has-text("Delete the endpoint")');
    await page.waitForURL(/\/endpoints$/);
    assert.match((await page.textContent('main')) ?? '', /No endpoints yet/);
    await context.close();
  });

  test('a read-only link changes nothing; a link without ViewEndpointSecret never shows a secret', async () => {
    const { app, url } = await customer('Read only', { readOnly: true });
    const ep = await api('POST', `/api/v1/app/${app.id}/endpoint`, {
      url: s.receiver.url,
      serverCa: s.pki.receiverCaPem,
    });
    const { key: secret } = await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret`);
    const { context, page } = await open(url);
    await page.goto(`${base}/portal/app/${app.id}/endpoints/${ep.id}`);
    const text = (await page.textContent('main')) ?? '';
    assert.doesNotMatch(text, /Add an endpoint|Test endpoint|Change|Disable|Delete|Rotate/);
    await inspect(page, 'endpoint-read-only');
    const csrf = await csrfOf(page);
    for (const action of ['disable', 'delete', 'rotate-secret', 'test']) {
      const res = await post(page, `/portal/app/${app.id}/endpoints/${ep.id}/${action}`, { _csrf: csrf });
      assert.equal(res.status, 403, action);
    }
    const form = await post(page, `/portal/app/${app.id}/endpoints`, { _csrf: csrf, url: 'https://x.example/' });
    assert.equal(form.status, 403);
    const now = await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`);
    assert.equal(now.disabled, false);
    assert.equal((await api('GET', `/api/v1/app/${app.id}/endpoint`)).data.length, 1);
    await context.close();

    // ViewBase and CreateAttempts, but no ViewEndpointSecret: the secret is on no page.
    const limited = await customer('No secret', { capabilities: ['ViewBase', 'CreateAttempts'] });
    const ep2 = await api('POST', `/api/v1/app/${limited.app.id}/endpoint`, { url: s.receiver.url });
    const { key: secret2 } = await api('GET', `/api/v1/app/${limited.app.id}/endpoint/${ep2.id}/secret`);
    const second = await open(limited.url);
    for (const path of [
      `endpoints/${ep2.id}`,
      `endpoints/${ep2.id}?reveal=secret`,
      'security',
      'deliveries',
      'endpoints',
    ]) {
      const res = await second.page.goto(`${base}/portal/app/${limited.app.id}/${path}`);
      const content = await second.page.content();
      for (const s of [secret, secret2, secret2.replace(/^whsec_/, '')])
        assert.ok(!content.includes(s), `${path} shows a secret`);
      if (path.includes('reveal')) assert.equal(res?.status(), 403);
    }
    await second.context.close();
  });

  test("a second application's session neither sees nor changes the first's endpoints, also by forged ids in URLs and forms", async () => {
    const first = await customer('First');
    const ep = await api('POST', `/api/v1/app/${first.app.id}/endpoint`, {
      url: s.receiver.url,
      serverCa: s.pki.receiverCaPem,
    });
    const msg = await api('POST', `/api/v1/app/${first.app.id}/msg`, { eventType: 'invoice.paid', payload: { n: 1 } });
    const second = await customer('Second');
    const mine = await api('POST', `/api/v1/app/${second.app.id}/msg`, {
      eventType: 'invoice.paid',
      payload: { n: 2 },
    });
    const { context, page } = await open(second.url);
    const csrf = await csrfOf(page);
    const firstPages = [
      'endpoints',
      `endpoints/${ep.id}`,
      'deliveries',
      `deliveries/${msg.id}`,
      'security',
      'security/ca-bundle.pem',
    ];
    for (const path of firstPages) {
      const res = await page.goto(`${base}/portal/app/${first.app.id}/${path}`);
      assert.equal(res?.status(), 403, path);
      assert.ok(!(await page.content()).includes(ep.url), `${path} shows the first's endpoint`);
    }
    // The first's ids under the second's application are as absent as ids that never were.
    for (const path of [`endpoints/${ep.id}`, `endpoints/${ep.id}/edit`, `deliveries/${msg.id}`]) {
      const res = await page.goto(`${base}/portal/app/${second.app.id}/${path}`);
      assert.equal(res?.status(), 404, path);
    }
    const forged = [
      [`/portal/app/${first.app.id}/endpoints/${ep.id}/delete`, {}],
      [`/portal/app/${first.app.id}/endpoints/${ep.id}`, { url: 'https://attacker.example/' }],
      [`/portal/app/${second.app.id}/endpoints/${ep.id}/disable`, {}],
      [`/portal/app/${second.app.id}/endpoints/${ep.id}/delete`, {}],
      // A form field naming the first's endpoint, on the second's own message.
      [`/portal/app/${second.app.id}/deliveries/${mine.id}/resend`, { endpoint: ep.id }],
      [`/portal/app/${second.app.id}/deliveries/${msg.id}/resend`, { endpoint: ep.id }],
    ] as const;
    for (const [path, fields] of forged) {
      const res = await post(page, path, { _csrf: csrf, ...fields });
      assert.ok(res.status === 403 || res.status === 404, `${path}: ${res.status}`);
    }
    const still = await api('GET', `/api/v1/app/${first.app.id}/endpoint/${ep.id}`);
    assert.deepEqual([still.url, still.disabled], [ep.url, false]);
    const attempts = await api('GET', `/api/v1/app/${first.app.id}/msg/${msg.id}/endpoint`);
    assert.equal(attempts.data.length, 1, 'nothing resent to the first');
    await context.close();
  });

  test('a form post without its CSRF token, or with another session’s, is refused', async () => {
    const { app, url } = await customer('Forms');
    const ep = await api('POST', `/api/v1/app/${app.id}/endpoint`, { url: s.receiver.url });
    const one = await open(url);
    const other = await open((await customer('Other forms')).url);
    const otherToken = await csrfOf(other.page);
    for (const fields of [
      {} as Record<string, string>,
      { _csrf: '' },
      { _csrf: otherToken },
      { _csrf: `${await csrfOf(one.page)}x` },
    ]) {
      const res = await post(one.page, `/portal/app/${app.id}/endpoints/${ep.id}/disable`, fields);
      assert.equal(res.status, 403, JSON.stringify(fields));
      assert.match(res.text, /not sent from a page of this portal session/);
    }
    assert.equal((await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`)).disabled, false);
    const ok = await post(one.page, `/portal/app/${app.id}/endpoints/${ep.id}/disable`, {
      _csrf: await csrfOf(one.page),
    });
    assert.equal(ok.redirected, true);
    assert.equal((await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`)).disabled, true);
    await one.context.close();
    await other.context.close();
  });

  test('the operator signs in with the admin token and sees every application, the charts and the certificates; dark and on a phone', async () => {
    const failing = await api('POST', '/api/v1/app', { name: 'Failing' });
    await api('POST', `/api/v1/app/${failing.id}/endpoint`, { url: s.receiver.url, disabled: true });
    for (const [name, options] of [
      ['light', {}],
      ['dark', { colorScheme: 'dark' }],
      ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
    ] as [string, BrowserContextOptions][]) {
      const context = await chrome.context(options);
      const page = await context.newPage();
      await page.goto(`${base}/`);
      assert.match(page.url(), /\/portal\/login$/, '/ leads to the portal');
      await page.click('text=Sign in with the admin token');
      await page.fill('#f-token', 'not-the-token');
      await page.click('main button:has-text("Sign in")');
      await page.waitForSelector('#f-token-error');
      await page.fill('#f-token', TOKEN);
      await page.click('main button:has-text("Sign in")');
      await page.waitForURL(/\/portal\/operator$/);
      for (const id of ['queue', 'rate', 'latency']) assert.ok(await page.$(`svg[aria-labelledby^="${id}-title"]`), id);
      assert.match((await page.textContent('main')) ?? '', /Failing[\s\S]*disabled/);
      assert.match((await page.textContent('main')) ?? '', /Current/);
      await inspect(page, `operator-console-${name}`);
      await page.click('nav >> text=Applications');
      assert.match((await page.textContent('main')) ?? '', /Acme/);
      await inspect(page, `operator-applications-${name}`);
      await page.locator('tr', { hasText: 'Failing' }).locator('a').first().click();
      await page.waitForURL(new RegExp(`/portal/app/${failing.id}/endpoints$`));
      await inspect(page, `operator-customer-endpoints-${name}`);
      await context.close();
    }
  });

  test('no page had a serious accessibility problem, the browser reached nothing but loopback, and no secret reached the log', () => {
    assert.deepEqual(inaccessible, []);
    assert.deepEqual(chrome.refused, []);
    assert.match(logged, /"msg":"request"/, 'requests were logged');
    for (const secret of secrets) assert.ok(!logged.includes(secret), 'a secret in the log');
  });
});
