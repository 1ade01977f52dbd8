import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorResponse, HookwardenError, isHookwardenError } from '../src/errors.ts';

test('HookwardenError carries code, status and a {code, detail} body', () => {
  const err = new HookwardenError('HW_EXAMPLE', 'what to fix', { status: 403 });
  assert.equal(err.code, 'HW_EXAMPLE');
  assert.equal(err.status, 403);
  assert.deepEqual(err.toJSON(), { code: 'HW_EXAMPLE', detail: 'what to fix' });
  assert.ok(isHookwardenError(err));
  assert.ok(!isHookwardenError(new Error('x')));
  assert.equal(new HookwardenError('HW_X', 'y').status, 400);
});

test('errorResponse answers our errors as they are and anything else as 500 without its message', () => {
  assert.deepEqual(errorResponse(new HookwardenError('HW_EXAMPLE', 'what to fix', { status: 403 })), {
    status: 403,
    body: { code: 'HW_EXAMPLE', detail: 'what to fix' },
  });
  for (const thrown of [new Error('secret path /etc/x'), 'a string', undefined, null]) {
    assert.deepEqual(errorResponse(thrown), { status: 500, body: { code: 'HW_INTERNAL', detail: 'internal error' } });
  }
});
