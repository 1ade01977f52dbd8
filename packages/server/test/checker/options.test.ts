import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookwardenError } from '@hookwarden/verify/errors';
import fc from 'fast-check';
import { resolveOptions } from '../../src/checker/options.ts';
import { makeFixtures } from './fixtures.ts';

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
          clientIdentity: fc.oneof(
            fc.anything(),
            fc.record({
              certPem: fc.oneof(fc.string(), fc.anything()),
              keyPem: fc.anything(),
              chainPem: fc.anything(),
            }),
          ),
          cipherPolicy: fc.oneof(
            fc.anything(),
            fc.record({
              minVersion: fc.oneof(fc.constantFrom('TLSv1', 'TLSv1.2', 'TLSv1.3', 'TLSv9'), fc.anything()),
              maxVersion: fc.oneof(fc.constantFrom('TLSv1.1', 'TLSv1.3'), fc.anything()),
              ciphers: fc.oneof(fc.array(fc.string()), fc.anything()),
              tls13Suites: fc.oneof(fc.array(fc.string()), fc.anything()),
            }),
          ),
          allowPrivateTargets: fc.anything(),
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

test('the client identity and the cipher policy are validated once, naming the field', async () => {
  const fx = await makeFixtures();
  const { certPem, keyPem, chainPem } = fx.platform.identity;
  const policy = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: [], tls13Suites: ['TLS_AES_128_GCM_SHA256'] };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['null identity', { clientIdentity: null }, /^clientIdentity must be an object/],
    ['a certificate as key', { clientIdentity: { certPem, keyPem: certPem } }, /^clientIdentity\.keyPem must be a PEM/],
    [
      'a key that is not the certificate’s',
      { clientIdentity: { certPem, keyPem: fx.stranger.keyPem, chainPem: '' } },
      /^clientIdentity\.keyPem does not match clientIdentity\.certPem/,
    ],
    [
      'a chain for another leaf',
      { clientIdentity: { certPem, keyPem, chainPem: fx.stranger.certPem } },
      /^clientIdentity\.chainPem must start with/,
    ],
    [
      'an unknown version',
      { cipherPolicy: { ...policy, minVersion: 'TLSv9' } },
      /^cipherPolicy\.minVersion must be one of/,
    ],
    [
      'versions upside down',
      { cipherPolicy: { ...policy, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' } },
      /^cipherPolicy\.minVersion/,
    ],
    ['a suite that is no string', { cipherPolicy: { ...policy, ciphers: [123] } }, /^cipherPolicy\.ciphers/],
    ['several suites in one name', { cipherPolicy: { ...policy, tls13Suites: ['A:B'] } }, /^cipherPolicy\.tls13Suites/],
    ['a policy that is no object', { cipherPolicy: null }, /^cipherPolicy must be an object/],
    ['a string for a boolean', { allowPrivateTargets: 'false' }, /^allowPrivateTargets must be a boolean/],
  ];
  for (const [name, extra, message] of cases) {
    assert.throws(
      () => resolveOptions({ url: 'https://a.test/', ...extra } as never),
      (err: unknown) =>
        err instanceof HookwardenError && err.code === 'HW_CHECK_OPTIONS_INVALID' && message.test(err.message),
      name,
    );
  }
  // A well-formed identity and policy pass unchanged.
  const ok = resolveOptions({
    url: 'https://a.test/',
    clientIdentity: { certPem, keyPem, chainPem },
    cipherPolicy: policy as never,
  });
  assert.deepEqual(ok.cipherPolicy, policy);
});
