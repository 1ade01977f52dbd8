import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { buildApi } from '../../src/api/app.ts';
import { hashToken } from '../../src/api/auth.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';

test('request logs carry a request id and never a token or an endpoint secret', async () => {
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logged += chunk.toString();
      cb();
    },
  });
  const token = 'log-test-admin-token-0123456789';
  const store = openSqliteStore(':memory:');
  const api = buildApi(
    {
      store,
      adminTokenHash: hashToken(token),
      now: Date.now,
      publicUrl: 'http://127.0.0.1',
      checkEndpointUrl: async () => {},
      onEnqueued: () => {},
      trust: async () => undefined,
    },
    { logger: pino({ level: 'info' }, sink) },
  );
  try {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': 'req-abc' };
    const app = await api.inject({ method: 'POST', url: '/api/v1/app', headers: auth, payload: { name: 'a' } });
    const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=';
    const ep = await api.inject({
      method: 'POST',
      url: `/api/v1/app/${app.json().id}/endpoint`,
      headers: auth,
      payload: { url: 'https://r.example/', secret },
    });
    assert.equal(ep.statusCode, 201);
    await api.inject({ method: 'GET', url: '/api/v1/app', headers: { authorization: 'Bearer wrong-token-xyz' } });
    assert.match(logged, /"reqId":"req-abc"/);
    for (const s of [token, secret, 'wrong-token-xyz']) assert.ok(!logged.includes(s), `${s} leaked into the log`);
  } finally {
    await api.close();
    await store.close();
  }
});
