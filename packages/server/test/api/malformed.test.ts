import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { WIRE_CODES } from '../../src/api/errors.ts';
import { startApi } from './harness.ts';

let h: Awaited<ReturnType<typeof startApi>>;
let appId: string;
let epId: string;
let msgId: string;

before(async () => {
  h = await startApi();
  appId = (await h.request('POST', '/api/v1/app', { name: 'a' })).body.id;
  epId = (await h.request('POST', `/api/v1/app/${appId}/endpoint`, { url: 'https://r.example/h' })).body.id;
  msgId = (await h.request('POST', `/api/v1/app/${appId}/msg`, { eventType: 't', payload: {} })).body.id;
  await h.request('POST', '/api/v1/event-type', { name: 't', description: 'd' });
});
after(() => h.close());

function assertError(res: { status: number; body: unknown }, status: number, label: string) {
  assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
  const body = res.body as { code?: unknown; detail?: unknown };
  assert.ok(WIRE_CODES.includes(body.code as string), `${label}: ${String(body.code)} is a documented code`);
  assert.ok(typeof body.detail === 'string' || Array.isArray(body.detail), label);
}

test('every route rejects malformed input with 4xx and {code, detail}', async () => {
  const A = () => `/api/v1/app/${appId}`;
  const E = () => `${A()}/endpoint/${epId}`;
  const cases: [string, () => string, unknown, number][] = [
    ['GET', () => '/api/v1/app?limit=0', undefined, 422],
    ['GET', () => '/api/v1/app?limit=abc', undefined, 422],
    ['GET', () => '/api/v1/app?order=sideways', undefined, 422],
    ['POST', () => '/api/v1/app', {}, 422],
    ['POST', () => '/api/v1/app', { name: 'x', uid: 'has space' }, 422],
    ['POST', () => '/api/v1/app', { name: 'x', metadata: { a: 1 } }, 422],
    ['POST', () => '/api/v1/app', '{"name":', 422],
    ['POST', () => '/api/v1/app', '[]', 422],
    ['GET', () => '/api/v1/app/bad%20id', undefined, 422],
    ['GET', () => '/api/v1/app/app_missing', undefined, 404],
    ['PUT', () => A(), { uid: 'x' }, 422],
    ['PATCH', () => A(), { name: 5 }, 422],
    ['DELETE', () => '/api/v1/app/app_missing', undefined, 404],
    ['POST', () => '/api/v1/event-type', { name: 'bad name', description: 'd' }, 422],
    ['POST', () => '/api/v1/event-type', { name: 't', description: 'd' }, 409],
    ['GET', () => '/api/v1/event-type/nope', undefined, 404],
    ['PUT', () => '/api/v1/event-type/t', { archived: 'yes' }, 422],
    ['GET', () => `${A()}/endpoint?iterator=${'x'.repeat(2000)}`, undefined, 422],
    ['POST', () => `${A()}/endpoint`, { url: 'not a url' }, 422],
    ['POST', () => `${A()}/endpoint`, { url: 'ftp://r.example/' }, 422],
    ['POST', () => `${A()}/endpoint`, { url: 'https://r.example/', secret: 'short' }, 422],
    ['POST', () => `${A()}/endpoint`, { url: 'https://r.example/', filterTypes: [] }, 422],
    ['POST', () => `${A()}/endpoint`, { url: 'https://r.example/', channels: ['a b'] }, 422],
    ['POST', () => `${A()}/endpoint`, { url: 'https://r.example/', serverCa: 'not pem' }, 422],
    [
      'POST',
      () => `${A()}/endpoint`,
      { url: 'https://r.example/', clientIdentity: { certPem: 'x', keyPem: 'y' } },
      422,
    ],
    ['POST', () => `${A()}/endpoint`, { url: 'https://r.example/', signatureScheme: 'v9' }, 422],
    ['POST', () => `${A()}/endpoint`, { url: 'https://r.example/', headers: { 'webhook-id': 'x' } }, 422],
    ['GET', () => `${A()}/endpoint/ep_missing`, undefined, 404],
    ['PUT', () => E(), { description: 'no url' }, 422],
    ['PATCH', () => E(), { disabled: 'no' }, 422],
    ['DELETE', () => `${A()}/endpoint/ep_missing`, undefined, 404],
    ['GET', () => `${A()}/endpoint/ep_missing/secret`, undefined, 404],
    ['POST', () => `${E()}/secret/rotate`, { key: '!!' }, 422],
    ['PUT', () => `${E()}/headers`, { headers: { 'bad header': 'x' } }, 422],
    ['PATCH', () => `${E()}/headers`, {}, 422],
    ['PUT', () => `${E()}/headers`, { headers: { 'X-Ok': 'a\r\nX-Injected: 1' } }, 422],
    ['POST', () => `${E()}/recover`, { since: 'yesterday' }, 422],
    ['POST', () => `${E()}/recover`, { since: '2030-01-01T00:00:00Z', until: '2020-01-01T00:00:00Z' }, 422],
    ['POST', () => `${E()}/send-example`, {}, 422],
    ['POST', () => `${E()}/send-example`, { eventType: 'unknown.type' }, 404],
    ['GET', () => `${A()}/msg?before=soon`, undefined, 422],
    ['POST', () => `${A()}/msg`, { eventType: 't' }, 422],
    ['POST', () => `${A()}/msg`, { eventType: 't', payload: 'string' }, 422],
    ['POST', () => `${A()}/msg`, { eventType: 't', payload: {}, channels: Array(11).fill('c') }, 422],
    ['POST', () => `${A()}/msg`, { eventType: 't', payload: {}, deliverAt: 'later' }, 422],
    ['GET', () => `${A()}/msg/msg_missing`, undefined, 404],
    ['GET', () => `${A()}/attempt/msg/msg_missing`, undefined, 404],
    ['GET', () => `${A()}/attempt/msg/${msgId}?status=9`, undefined, 422],
    ['GET', () => `${A()}/attempt/endpoint/ep_missing`, undefined, 404],
    ['GET', () => `${A()}/msg/msg_missing/endpoint`, undefined, 404],
    ['GET', () => `${A()}/msg/${msgId}/endpoint?limit=0`, undefined, 422],
    ['GET', () => `${A()}/msg/${msgId}/endpoint?order=up`, undefined, 422],
    ['GET', () => `${E()}/stats?since=yesterday`, undefined, 422],
    ['GET', () => `${E()}/msg?status=9`, undefined, 422],
    ['GET', () => `${A()}/endpoint/ep_missing/msg`, undefined, 404],
    ['POST', () => `${E()}/replay-missing`, {}, 422],
    ['POST', () => `${E()}/replay-missing`, { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 422],
    ['POST', () => `${A()}/endpoint/ep_missing/replay-missing`, { since: '2026-01-01T00:00:00Z' }, 404],
    ['GET', () => `${A()}/endpoint/ep_missing/stats`, undefined, 404],
    ['GET', () => `${A()}/msg/${msgId}/attempt/atmpt_missing`, undefined, 404],
    ['POST', () => `${A()}/msg/${msgId}/endpoint/ep_missing/resend`, undefined, 404],
    ['POST', () => '/api/v1/auth/app-portal-access/app_missing', {}, 404],
    ['POST', () => `/api/v1/auth/app-portal-access/${appId}`, { expiry: -1 }, 422],
    ['POST', () => `/api/v1/auth/app-portal-access/${appId}`, { capabilities: ['ViewBase', 'Root'] }, 422],
    ['POST', () => `/api/v1/auth/app-portal-access/${appId}`, { readOnly: 'yes' }, 422],
    ['POST', () => '/api/v1/auth/dashboard-access/app_missing', undefined, 404],
    ['POST', () => `/api/v1/auth/app/${appId}/expire-all`, { expiry: -1 }, 422],
    ['POST', () => `/api/v1/auth/app/${appId}/expire-all`, { sessionIds: 's1' }, 422],
    ['POST', () => '/api/v1/auth/app/app_missing/expire-all', {}, 404],
    // The admin token is no session: it cannot log out.
    ['POST', () => '/api/v1/auth/logout', undefined, 403],
    ['DELETE', () => `${A()}/msg/msg_missing/content`, undefined, 404],
    ['POST', () => `${A()}/msg/precheck/active`, { eventType: 'bad name' }, 422],
    ['POST', () => `${E()}/bulk-replay`, {}, 422],
    ['POST', () => '/api/v1/app/app_missing/msg/expunge-all-contents', undefined, 404],
    ['POST', () => '/api/v1/app/bad%20id/msg/expunge-all-contents', undefined, 422],
    ['POST', () => `${E()}/bulk-replay`, { since: '2026-01-01T00:00:00Z', status: 9 }, 422],
    ['POST', () => `${E()}/bulk-replay`, { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 422],
    ['POST', () => `${A()}/endpoint/ep_missing/bulk-replay`, { since: '2026-01-01T00:00:00Z' }, 404],
    ['POST', () => '/api/v1/app/app_missing/msg/precheck/active', { eventType: 'e' }, 404],
    ['DELETE', () => `${A()}/msg/bad%20id/content`, undefined, 422],
    ['DELETE', () => `${A()}/msg/${msgId}/attempt/atmpt_missing/content`, undefined, 404],
    ['GET', () => '/api/v1/background-task?status=done', undefined, 422],
    ['GET', () => '/api/v1/background-task?task=endpoint.teleport', undefined, 422],
    ['GET', () => '/api/v1/background-task?limit=0', undefined, 422],
    ['GET', () => '/api/v1/background-task/bad%20id', undefined, 422],
    ['GET', () => '/api/v1/background-task/qtask_missing', undefined, 404],
    ['POST', () => '/api/v1/operational-webhook/endpoint', {}, 422],
    ['POST', () => '/api/v1/operational-webhook/endpoint', { url: 'https://o.example/', filterTypes: [] }, 422],
    ['GET', () => '/api/v1/operational-webhook/endpoint?limit=0', undefined, 422],
    ['GET', () => '/api/v1/operational-webhook/endpoint/bad%20id', undefined, 422],
    ['GET', () => '/api/v1/operational-webhook/endpoint/ep_missing', undefined, 404],
    [
      'PUT',
      () => '/api/v1/operational-webhook/endpoint/ep_01M8HC8ATMF08Q60EAKM2P5ETE',
      { url: 'https://o.example/' },
      404,
    ],
    ['DELETE', () => '/api/v1/operational-webhook/endpoint/ep_missing', undefined, 404],
    ['POST', () => '/api/v1/operational-webhook/endpoint/ep_missing/secret/rotate', {}, 404],
    ['POST', () => '/api/v1/event-type/import/openapi', {}, 422],
    ['POST', () => '/api/v1/event-type/import/openapi', { specRaw: 5 }, 422],
    ['POST', () => '/api/v1/event-type/import/openapi', { spec: { webhooks: { a: { post: 1 } } } }, 422],
    ['POST', () => '/api/v1/environment/import', { eventTypes: [{ name: 'a b', description: 'd' }] }, 422],
    ['POST', () => '/api/v1/environment/import', { eventTypes: {} }, 422],
    ['POST', () => '/api/v1/stats/usage/app', {}, 422],
    ['POST', () => '/api/v1/stats/usage/app', { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 422],
    ['POST', () => '/api/v1/stats/usage/app', { since: 'x', until: 'y' }, 422],
    ['GET', () => '/api/v1/nothing-here', undefined, 404],
  ];
  for (const [method, path, body, status] of cases) {
    assertError(await h.request(method, path(), body), status, `${method} ${path()}`);
  }
});

test('422 names the failing field the way Svix does', async () => {
  const res = await h.request('POST', `/api/v1/app/${appId}/endpoint`, { url: 'https://r.example/', rateLimit: 'x' });
  assert.equal(res.status, 422);
  assert.deepEqual(res.body.detail[0].loc, ['body', 'rateLimit']);
  const missing = await h.request('POST', '/api/v1/app', {});
  assert.deepEqual(missing.body.detail[0].loc, ['body', 'name']);
});

test('auth: 401 without or with a wrong token, before the body is read', async () => {
  assertError(await h.request('GET', '/api/v1/app', undefined, ''), 401, 'none');
  assertError(await h.request('GET', '/api/v1/app', undefined, 'wrong'), 401, 'wrong');
  assertError(await h.request('GET', '/api/v1/app', undefined, '', { authorization: 'Basic abc' }), 401, 'basic');
});

test('a body over 1 MiB is answered 413', async () => {
  const big = { eventType: 't', payload: { blob: 'x'.repeat(1024 * 1024) } };
  assertError(await h.request('POST', `/api/v1/app/${appId}/msg`, big), 413, 'big');
});

test('property: arbitrary JSON bodies never cause a 5xx and always get a {code, detail} error', async () => {
  const paths = [
    '/api/v1/app',
    '/api/v1/event-type',
    `/api/v1/app/${appId}/endpoint`,
    `/api/v1/app/${appId}/msg`,
    `/api/v1/app/${appId}/endpoint/${epId}/recover`,
    `/api/v1/app/${appId}/endpoint/${epId}/secret/rotate`,
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...paths), fc.jsonValue(), async (path, value) => {
      const res = await h.request('POST', path, JSON.stringify(value));
      assert.ok(res.status < 500, `${path} ${JSON.stringify(value)} → ${res.status}`);
      if (res.status >= 400) assertError(res, res.status, path);
    }),
    { numRuns: 150 },
  );
});

test('a time must be an instant: a leap second passes RFC 3339 but not Date, and is refused', async () => {
  const leap = '2016-12-31T23:59:60Z';
  const requests: [string, string, unknown?][] = [
    ['GET', `/api/v1/app/${appId}/msg?before=${leap}`],
    ['GET', `/api/v1/app/${appId}/attempt/endpoint/${epId}?after=${leap}`],
    ['GET', `/api/v1/app/${appId}/endpoint/${epId}/stats?since=${leap}`],
    ['POST', `/api/v1/app/${appId}/msg`, { eventType: 't', payload: {}, deliverAt: leap }],
    ['POST', `/api/v1/app/${appId}/endpoint/${epId}/recover`, { since: leap }],
    ['POST', '/api/v1/stats/usage/app', { since: leap, until: '2017-01-01T00:00:00Z' }],
  ];
  for (const [method, path, body] of requests) {
    const res = await h.request(method, path, body);
    assertError(res, 422, `${method} ${path}`);
  }
  // The second before it is a time like any other.
  assert.equal((await h.request('GET', `/api/v1/app/${appId}/msg?before=2016-12-31T23:59:59Z`)).status, 200);
});

test("an id or uid as long as the API accepts is found; the router's own refusals answer {code, detail}", async () => {
  const uid = 'u'.repeat(256);
  assert.equal((await h.request('POST', '/api/v1/app', { name: 'long', uid })).status, 201);
  const found = await h.request('GET', `/api/v1/app/${uid}`);
  assert.equal(found.status, 200);
  assert.equal(found.body.uid, uid);
  assertError(await h.request('GET', '/api/v1/app/%ZZ'), 400, 'a malformed percent-escape');
  assertError(await h.request('GET', `/api/v1/app/${'x'.repeat(1100)}`), 414, 'a parameter past any id');
});
