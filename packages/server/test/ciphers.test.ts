import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CIPHER_POLICY, nodeCipherString } from '../src/delivery/ciphers.ts';

test('no offered suite is a broken one', () => {
  for (const suite of [...DEFAULT_CIPHER_POLICY.ciphers, ...DEFAULT_CIPHER_POLICY.tls13Suites]) {
    assert.doesNotMatch(suite, /RC4|3DES|DES-CBC|EXP|NULL|MD5|ADH|AECDH/, suite);
  }
});

test('Node accepts the whole cipher string for a TLS context', async () => {
  const tls = await import('node:tls');
  const ctx = tls.createSecureContext({ ciphers: nodeCipherString(DEFAULT_CIPHER_POLICY) });
  assert.ok(ctx);
  const offered = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
  for (const suite of DEFAULT_CIPHER_POLICY.ciphers)
    assert.ok(offered.has(suite), `${suite} missing from tls.getCiphers()`);
});
