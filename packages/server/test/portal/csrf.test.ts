import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Harness } from '../api/harness.ts';
import { customerOf, PortalClient, portalWith } from './client.ts';

let h: Harness;
before(async () => {
  h = await portalWith();
});
after(() => h.close());

/** A signed-in customer with one endpoint, and the path that disables it. */
async function signedIn() {
  const { app, url } = await customerOf(h);
  const ep = (await h.request('POST', `/api/v1/app/${app.id}/endpoint`, { url: 'https://receiver.example/hook' })).body;
  const c = new PortalClient(h.url);
  await c.signIn(url);
  const disable = `/portal/app/${app.id}/endpoints/${ep.id}/disable`;
  const disabled = async () =>
    (await h.request('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`)).body.disabled as boolean;
  return { app, ep, c, disable, disabled, token: await c.csrf(`/portal/app/${app.id}/endpoints/${ep.id}`) };
}

test('a form without its token, with a changed one or with another session’s is refused, and changes nothing', async () => {
  const one = await signedIn();
  const other = await signedIn();
  for (const fields of [
    {},
    { _csrf: '' },
    { _csrf: `${one.token}A` },
    { _csrf: other.token },
    { _csrf: one.token.slice(1) },
  ]) {
    const res = await one.c.post(one.disable, fields as Record<string, string>);
    assert.equal(res.status, 403, JSON.stringify(fields));
    assert.match(res.text, /not sent from a page of this portal session/);
  }
  assert.equal(await one.disabled(), false);
  assert.equal((await one.c.post(one.disable, { _csrf: one.token })).status, 303);
  assert.equal(await one.disabled(), true);
});

test('a form sent from another site is refused even with the right token; one of this origin passes', async () => {
  const s = await signedIn();
  const host = new URL(h.url).host;
  for (const origin of ['https://evil.example', 'null', `http://${host}.evil.example`, 'not a url']) {
    const res = await s.c.post(s.disable, { _csrf: s.token }, { origin });
    assert.equal(res.status, 403, origin);
  }
  assert.equal(await s.disabled(), false);
  assert.equal((await s.c.post(s.disable, { _csrf: s.token }, { origin: `http://${host}` })).status, 303);
});

test('a sign-in form must carry the sign-in cookie’s token: another page cannot sign the browser in to its own session', async () => {
  const { url } = await customerOf(h);
  const key = url.split('#key=')[1] as string;
  const fresh = new PortalClient(h.url);
  // No sign-in cookie (the form was posted from elsewhere): refused, and the key is not spent.
  assert.equal((await fresh.post('/portal/login', { key, _csrf: 'guess' })).status, 403);
  await fresh.get('/portal/login');
  assert.equal((await fresh.post('/portal/login', { key, _csrf: 'guess' })).status, 403);
  assert.equal((await fresh.post('/portal/operator/login', { token: 'x' })).status, 403);
  assert.equal((await fresh.signIn(url)).status, 303, 'the key still works');
});

test('a session is needed for every form; without one, pages lead to the sign-in', async () => {
  const { app } = await customerOf(h);
  const anonymous = new PortalClient(h.url);
  const page = await anonymous.get(`/portal/app/${app.id}/endpoints`);
  assert.deepEqual([page.status, page.res.headers.get('location')], [303, '/portal/login']);
  const operator = await anonymous.get('/portal/operator');
  assert.deepEqual([operator.status, operator.res.headers.get('location')], [303, '/portal/operator/login']);
  const form = await anonymous.post(`/portal/app/${app.id}/endpoints`, { url: 'https://x.example/' });
  assert.equal(form.status, 401);
  assert.equal((await h.request('GET', `/api/v1/app/${app.id}/endpoint`)).body.data.length, 0);
});
