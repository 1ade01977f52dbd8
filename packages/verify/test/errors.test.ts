import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookwardenError, isHookwardenError } from '../src/errors.ts';

test('HookwardenError carries code, status and a {code, detail} body', () => {
  const err = new HookwardenError('HW_EXAMPLE', 'what to fix', { status: 403 });
  assert.equal(err.code, 'HW_EXAMPLE');
  assert.equal(err.status, 403);
  assert.deepEqual(err.toJSON(), { code: 'HW_EXAMPLE', detail: 'what to fix' });
  assert.ok(isHookwardenError(err));
  assert.ok(!isHookwardenError(new Error('x')));
  assert.equal(new HookwardenError('HW_X', 'y').status, 400);
});
