import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookwardenError } from '@hookwarden/verify/errors';
import { DELIVERY_CODES, type DeliveryCode, DeliveryError } from '../../src/delivery/errors.ts';

test('every delivery code is a stable HW_ string with its status, on the one error class', () => {
  for (const [code, status] of Object.entries(DELIVERY_CODES) as [DeliveryCode, number][]) {
    assert.match(code, /^HW_(ENDPOINT_URL|DELIVERY)_[A-Z_]+$/);
    const err = new DeliveryError(code, 'what to fix');
    assert.ok(err instanceof HookwardenError);
    assert.equal(err.status, status);
    assert.deepEqual(err.toJSON(), { code, detail: 'what to fix' });
  }
});
