import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { ServerError } from '../src/errors.ts';
import { createSealer, parseMasterKey } from '../src/sealing.ts';

const sealer = createSealer(randomBytes(32));

test('a sealed secret opens under its own name with the same master key, and hides its text', () => {
  fc.assert(
    fc.property(fc.string(), fc.string({ unit: 'binary' }), (name, plaintext) => {
      const sealed = sealer.seal(name, plaintext);
      assert.equal(sealer.open(name, sealed), plaintext);
      assert.notEqual(sealer.seal(name, plaintext), sealed, 'a fresh nonce each time');
      if (plaintext.length >= 4) assert.ok(!sealed.includes(plaintext));
    }),
  );
});

test('another name, another master key, or any changed character does not open', () => {
  const sealed = sealer.seal('root-key.pem', 'PRIVATE');
  assert.throws(() => sealer.open('leaf-key.pem', sealed), { code: 'HW_SEALED_INVALID' });
  const other = createSealer(randomBytes(32));
  assert.notEqual(other.keyId, sealer.keyId);
  assert.throws(
    () => other.open('root-key.pem', sealed),
    (err: ServerError) => {
      assert.equal(err.code, 'HW_MASTER_KEY_MISMATCH');
      assert.ok(err.message.includes(sealer.keyId) && err.message.includes(other.keyId));
      return true;
    },
  );
  fc.assert(
    fc.property(fc.nat({ max: sealed.length - 1 }), fc.constantFrom(...'AQz_-.='), (i, c) => {
      fc.pre(sealed[i] !== c);
      const changed = sealed.slice(0, i) + c + sealed.slice(i + 1);
      assert.throws(
        () => sealer.open('root-key.pem', changed),
        (err: ServerError) => err.code === 'HW_SEALED_INVALID' || err.code === 'HW_MASTER_KEY_MISMATCH',
      );
    }),
  );
});

test('opening any text fails only with the sealing errors', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.string().map((s) => `hwsealed.v1.${sealer.keyId}.${s}`),
      ),
      (text) => {
        assert.throws(
          () => sealer.open('n', text),
          (err: unknown) => err instanceof ServerError && err.code === 'HW_SEALED_INVALID',
        );
      },
    ),
  );
});

test('a master key is 32 bytes in base64 or base64url; anything else is refused naming where it came from', () => {
  const key = randomBytes(32);
  assert.deepEqual(parseMasterKey(`${key.toString('base64')}\n`, 'f'), key);
  assert.deepEqual(parseMasterKey(key.toString('base64url'), 'f'), key);
  for (const bad of [
    '',
    'short',
    randomBytes(16).toString('base64'),
    randomBytes(33).toString('base64'),
    `${key.toString('hex')}`,
  ]) {
    assert.throws(
      () => parseMasterKey(bad, 'HOOKWARDEN_MASTER_KEY'),
      (err: ServerError) => {
        assert.equal(err.code, 'HW_MASTER_KEY_INVALID');
        assert.match(err.message, /^HOOKWARDEN_MASTER_KEY is not a master key/);
        return true;
      },
    );
  }
});
