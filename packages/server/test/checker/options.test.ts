import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookwardenError } from '@hookwarden/verify/errors';
import fc from 'fast-check';
import { resolveOptions } from '../../src/checker/options.ts';

test('option validation never throws anything but a HookwardenError, whatever it is given', () => {
  fc.assert(
    fc.property(
      fc.record(
        {
          url: fc.oneof(fc.string(), fc.webUrl(), fc.anything({ withNullPrototype: true })),
          timeoutMs: fc.anything({ withNullPrototype: true }),
          concurrency: fc.anything(),
          serverCaPem: fc.oneof(fc.string(), fc.anything()),
          platformCaPem: fc.anything(),
          testEventSecret: fc.oneof(fc.string(), fc.constant('whsec_'), fc.anything()),
          lookup: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      (opts) => {
        try {
          resolveOptions(opts as never);
        } catch (err) {
          assert.ok(err instanceof HookwardenError, String(err));
          assert.match(err.code, /^HW_CHECK_(OPTIONS|URL)_INVALID$/);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('a bad signing secret is refused without being repeated', () => {
  const secret = 'not-a-secret-but-sensitive';
  assert.throws(
    () => resolveOptions({ url: 'https://a.test/', testEventSecret: secret }),
    (err: unknown) =>
      err instanceof HookwardenError && /^testEventSecret/.test(err.message) && !err.message.includes(secret),
  );
});
