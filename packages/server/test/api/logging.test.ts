import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, startApi } from './harness.ts';

test('request logs carry a request id and never a token or an endpoint secret', async () => {
  const h = await startApi({}, { log: true });
  try {
    const app = await h.request('POST', '/api/v1/app', { name: 'a' }, undefined, { 'x-request-id': 'req-abc' });
    const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=';
    const ep = await h.request('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: 'https://r.example/', secret });
    assert.equal(ep.status, 201);
    await h.request('GET', '/api/v1/app', undefined, 'wrong-token-xyz');
    assert.match(h.logged(), /"reqId":"req-abc"/);
    for (const s of [ADMIN_TOKEN, secret, 'wrong-token-xyz'])
      assert.ok(!h.logged().includes(s), `${s} leaked into the log`);
  } finally {
    await h.close();
  }
});
