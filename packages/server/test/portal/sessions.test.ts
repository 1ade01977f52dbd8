import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildApi } from '../../src/api/app.ts';
import { hashToken } from '../../src/api/auth.ts';
import { ADMIN_TOKEN, type Harness } from '../api/harness.ts';
import { customerOf, PortalClient, portalWith } from './client.ts';

let h: Harness;
let clock = Date.UTC(2026, 0, 1);

before(async () => {
  h = await portalWith({ now: () => clock, publicUrl: 'https://hooks.example.com' });
});
after(() => h.close());

const client = () => new PortalClient(h.url);

test('the link is absolute, from the public URL; its key is no API token, nor the API token a key', async () => {
  const { app, url, token } = await customerOf(h);
  assert.match(url, /^https:\/\/hooks\.example\.com\/portal\/login#key=[A-Za-z0-9_-]{43}$/);
  const key = url.split('#key=')[1] as string;
  assert.notEqual(key, token);
  assert.equal((await h.request('GET', `/api/v1/app/${app.id}`, undefined, key)).status, 401);
  assert.equal((await h.request('GET', `/api/v1/app/${app.id}`, undefined, token)).status, 200);
  const c = client();
  assert.equal((await c.signIn(`x#key=${token}`)).status, 401);
});

test('a sign-in key works once, even for two requests racing with it', async () => {
  const { app, url } = await customerOf(h);
  const [a, b] = [client(), client()];
  const [pa, pb] = await Promise.all([a.get('/portal/login'), b.get('/portal/login')]);
  const key = url.split('#key=')[1] as string;
  const answers = await Promise.all([
    a.post('/portal/login', { _csrf: PortalClient.token(pa.text), key }),
    b.post('/portal/login', { _csrf: PortalClient.token(pb.text), key }),
  ]);
  assert.deepEqual(answers.map((r) => r.status).sort(), [303, 401]);
  const winner = answers[0]?.status === 303 ? a : b;
  assert.equal(answers.find((r) => r.status === 303)?.res.headers.get('location'), `/portal/app/${app.id}/endpoints`);
  assert.equal((await winner.get(`/portal/app/${app.id}/endpoints`)).status, 200);
  assert.equal((await client().signIn(url)).status, 401, 'used');
});

test('over HTTPS the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict, and expires with the token', async () => {
  const { url } = await customerOf(h, { expiry: 3600 });
  const c = client();
  const page = await c.get('/portal/login');
  const login = page.res.headers.getSetCookie()[0] as string;
  assert.match(
    login,
    /^__Host-hw_login=[^;]+; Path=\/; Max-Age=1800; Expires=[^;]+; HttpOnly; SameSite=Strict; Secure$/,
  );
  const res = await c.post('/portal/login', {
    _csrf: PortalClient.token(page.text),
    key: url.split('#key=')[1] as string,
  });
  const session = res.res.headers.getSetCookie().find((l) => l.startsWith('__Host-hw_session=')) as string;
  assert.match(session, /^__Host-hw_session=c\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; /);
  assert.match(
    session,
    new RegExp(`Expires=${new Date(clock + 3600_000).toUTCString()}; HttpOnly; SameSite=Strict; Secure$`),
  );
});

test('a session ends with its token, with expire-all (by portal session too) and with sign-out', async () => {
  const { app, url } = await customerOf(h, { expiry: 60, sessionId: 'desk-1' });
  const endpoints = `/portal/app/${app.id}/endpoints`;
  const c = client();
  await c.signIn(url);
  assert.equal((await c.get(endpoints)).status, 200);
  const start = clock;
  clock += 60_000;
  const expired = await c.get(endpoints);
  assert.deepEqual([expired.status, expired.res.headers.get('location')], [303, '/portal/login']);
  clock = start;

  const { url: second } = await customerOf(h, { sessionId: 'desk-2' });
  const d = client();
  const { location } = await d.signIn(second);
  assert.equal((await d.get(location as string)).status, 200);
  const appId = (location as string).split('/')[3] as string;
  assert.equal(
    (await h.request('POST', `/api/v1/auth/app/${appId}/expire-all`, { sessionIds: ['desk-1'] })).status,
    204,
  );
  assert.equal((await d.get(location as string)).status, 200, 'another portal session stays');
  assert.equal(
    (await h.request('POST', `/api/v1/auth/app/${appId}/expire-all`, { sessionIds: ['desk-2'] })).status,
    204,
  );
  assert.equal((await d.get(location as string)).status, 303, 'its own portal session ends it');

  const { url: third } = await customerOf(h);
  const e = client();
  const signedIn = await e.signIn(third);
  const cookie = e.cookie();
  const token = await e.csrf(signedIn.location as string);
  assert.equal((await e.post('/portal/logout', { _csrf: token })).status, 200);
  const again = await fetch(h.url + (signedIn.location as string), { headers: { cookie }, redirect: 'manual' });
  assert.equal(again.status, 303, 'the old cookie opens nothing');
});

test("the operator signs in with the admin token; a customer's cookie never stands for the operator; a new admin token ends operator sessions", async () => {
  const o = client();
  const form = await o.get('/portal/operator/login');
  const wrong = await o.post('/portal/operator/login', { _csrf: PortalClient.token(form.text), token: 'nope' });
  assert.equal(wrong.status, 401);
  const right = await o.post('/portal/operator/login', { _csrf: PortalClient.token(wrong.text), token: ADMIN_TOKEN });
  assert.deepEqual([right.status, right.res.headers.get('location')], [303, '/portal/operator']);
  assert.equal((await o.get('/portal/operator')).status, 200);
  const operatorCookie = o.jar.get('__Host-hw_session') as string;
  assert.match(operatorCookie, /^o\./);

  // A customer's session, its cookie relabelled as the operator's: no session at all.
  const { url } = await customerOf(h);
  const c = client();
  await c.signIn(url);
  assert.equal((await c.get('/portal/operator')).status, 403);
  c.jar.set('__Host-hw_session', `o.${(c.jar.get('__Host-hw_session') as string).slice(2)}`);
  assert.equal((await c.get('/portal/operator')).status, 303);

  // Another server on the same database with another admin token: the operator session is gone.
  const rotated = buildApi(
    {
      store: h.store,
      adminTokenHash: hashToken('another-admin-token-0123456789'),
      now: () => clock,
      publicUrl: 'https://hooks.example.com',
      checkEndpointUrl: async () => {},
      onEnqueued: () => {},
      trust: async () => undefined,
    },
    { portal: {} },
  );
  try {
    const res = await rotated.inject({ method: 'GET', url: '/portal/operator', headers: { cookie: o.cookie() } });
    assert.deepEqual([res.statusCode, res.headers.location], [303, '/portal/operator/login']);
  } finally {
    await rotated.close();
  }
  assert.equal((await o.get('/portal/operator')).status, 200, 'still valid here');
});

test('every portal answer carries a strict CSP, no caching and no framing; assets are immutable; / leads to the portal', async () => {
  const res = await fetch(`${h.url}/portal/login`);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('referrer-policy'), 'same-origin');
  const body = await res.text();
  assert.doesNotMatch(body, /<script>|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+=|style="/i, 'no inline script or style');
  const css = /href="(\/portal\/assets\/portal\.css\?v=[^"]+)"/.exec(body)?.[1] as string;
  const asset = await fetch(h.url + css);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.match(asset.headers.get('content-type') ?? '', /^text\/css/);
  const root = await fetch(`${h.url}/`, { redirect: 'manual' });
  assert.deepEqual([root.status, root.headers.get('location')], [302, '/portal/']);
  // The API keeps its JSON answers and does not read forms.
  const form = await fetch(`${h.url}/api/v1/app`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=x',
  });
  assert.equal(form.status, 415);
  const missing = await fetch(`${h.url}/portal/nothing-here`);
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /^text\/html/);

  const framed = await portalWith({}, { frameAncestors: ['https://dashboard.example.com', "'self'"] });
  try {
    const page = await fetch(`${framed.url}/portal/login`);
    assert.match(
      page.headers.get('content-security-policy') ?? '',
      /frame-ancestors https:\/\/dashboard\.example\.com 'self'/,
    );
    assert.equal(page.headers.get('x-frame-options'), null);
  } finally {
    await framed.close();
  }
  await assert.rejects(portalWith({}, { frameAncestors: ['https://x.example; script-src *'] }), {
    code: 'HW_OPTION_INVALID',
  });
});

test('the public URL must be an origin: a path, query or other scheme would make broken links', async () => {
  const { startServer } = await import('../../src/server.ts');
  for (const publicUrl of [
    'ftp://hooks.example.com',
    'https://hooks.example.com/base',
    'https://u:p@hooks.example.com',
    'nope',
  ]) {
    await assert.rejects(
      startServer({ adminToken: ADMIN_TOKEN, identity: () => undefined, store: h.store, publicUrl }),
      { code: 'HW_OPTION_INVALID', message: /publicUrl/ },
      publicUrl,
    );
  }
});
