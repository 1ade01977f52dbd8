import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookwardenError } from '@hookwarden/verify/errors';
import { errorReply, OWN_ERRORS, SVIX_ERRORS, WIRE_CODES } from '../../src/api/errors.ts';
import { FieldError, ServerError } from '../../src/errors.ts';
import { ADMIN_TOKEN, startApi } from './harness.ts';

test("each failure Svix has a case for answers Svix's status and code", () => {
  for (const [internal, { status, code }] of Object.entries(SVIX_ERRORS)) {
    const reply = errorReply(new ServerError(internal, 'why', { status: 418 }), 1024);
    assert.equal(reply?.status, status, internal);
    assert.equal(reply?.body.code, code, internal);
  }
  assert.equal(new Set(WIRE_CODES).size, WIRE_CODES.length, 'no code answers two cases');
});

test('our own cases keep their code; a 422 lists its problems as Svix does, naming the field', () => {
  for (const [code, status] of Object.entries(OWN_ERRORS)) {
    const reply = errorReply(new HookwardenError(code, 'why', { status: 500 }), 1024);
    assert.equal(reply?.status, status, code);
    assert.equal(reply?.body.code, code, code);
    if (status === 422) assert.deepEqual(reply?.body.detail, [{ loc: ['body'], msg: 'why', type: 'value_error' }]);
  }
  const field = errorReply(new FieldError(['body', 'url'], 'is not a URL', 'HW_ENDPOINT_URL_INVALID'), 1024);
  assert.deepEqual(field, {
    status: 422,
    body: {
      code: 'HW_ENDPOINT_URL_INVALID',
      detail: [{ loc: ['body', 'url'], msg: 'is not a URL', type: 'value_error' }],
    },
  });
});

test('any other failure is internal: not told to the caller, whatever status it carries', async () => {
  // The store thread's failure carries the default status (400) and a message with internals.
  assert.equal(
    errorReply(new ServerError('HW_STORE_FAILED', 'the store thread failed: SQLITE_CORRUPT'), 1024),
    undefined,
  );
  assert.equal(errorReply(new Error('boom'), 1024), undefined);
  const h = await startApi();
  try {
    await h.store.close();
    const res = await h.request('GET', '/api/v1/app', undefined, ADMIN_TOKEN);
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { code: 'server_error', detail: 'internal error' });
  } finally {
    await h.api.close();
  }
});
