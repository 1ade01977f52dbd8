import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { HookwardenError, VerificationError } from '../src/errors.ts';
import {
  acceptedUntilMs,
  createSignatureChecker,
  generateEd25519Key,
  generateSecret,
  sign,
  verifySignature,
} from '../src/signature.ts';

const T = 1_800_000_000; // a fixed instant, in unix seconds
const at = (seconds: number) => () => seconds * 1000;
const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', amount: 4200, note: 'café' } });

function headers(msgId: string, timestamp: number, signature: string) {
  return { 'webhook-id': msgId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

function rejects(fn: () => unknown, code: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HookwardenError, `expected HookwardenError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('interop with the standardwebhooks and svix packages', () => {
  test('our v1 signatures verify with standardwebhooks and svix', () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000); // their verify reads the real clock
    const signature = sign({ msgId: 'msg_ours', timestamp: now, body, secrets: [secret] });
    const h = headers('msg_ours', now, signature);
    assert.deepEqual(new StandardWebhook(secret).verify(body, h), JSON.parse(body));
    assert.deepEqual(new SvixWebhook(secret).verify(body, h), JSON.parse(body));
    assert.deepEqual(
      new SvixWebhook(secret).verify(body, {
        'svix-id': 'msg_ours',
        'svix-timestamp': String(now),
        'svix-signature': signature,
      }),
      JSON.parse(body),
    );
    // and they refuse what ours refuses: a changed body
    assert.throws(() => new StandardWebhook(secret).verify(body + ' ', h));
  });

  test('signatures made by standardwebhooks and svix verify with ours', () => {
    const secret = generateSecret();
    const date = new Date(T * 1000);
    const theirs = new StandardWebhook(secret).sign('msg_sw', date, body);
    assert.deepEqual(verifySignature({ headers: headers('msg_sw', T, theirs), body, secrets: [secret], now: at(T) }), {
      msgId: 'msg_sw',
      timestamp: T,
    });
    const svix = new SvixWebhook(secret).sign('msg_svix', date, body);
    const svixHeaders = { 'svix-id': 'msg_svix', 'svix-timestamp': String(T), 'svix-signature': svix };
    assert.equal(verifySignature({ headers: svixHeaders, body, secrets: [secret], now: at(T) }).msgId, 'msg_svix');
    // the same bytes as a Uint8Array body
    const bytes = new TextEncoder().encode(body);
    assert.equal(
      verifySignature({ headers: svixHeaders, body: bytes, secrets: [secret], now: at(T) }).msgId,
      'msg_svix',
    );
    rejects(
      () =>
        verifySignature({ headers: svixHeaders, body: body.replace('4200', '4201'), secrets: [secret], now: at(T) }),
      'HW_SIGNATURE_INVALID',
    );
  });

  test('a 24-byte secret as svix issues them works both ways', () => {
    const secret = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
    const sig = new SvixWebhook(secret).sign('m', new Date(T * 1000), body);
    assert.equal(sign({ msgId: 'm', timestamp: T, body, secrets: [secret] }), sig);
  });
});

describe('rotation and key types', () => {
  test('one signature per secret; any configured secret that matches is enough', () => {
    const [oldSecret, newSecret, other] = [generateSecret(), generateSecret(), generateSecret()];
    const both = sign({ msgId: 'm1', timestamp: T, body, secrets: [oldSecret, newSecret] });
    assert.equal(both.split(' ').length, 2);
    for (const secrets of [[oldSecret], [newSecret], [other, newSecret]]) {
      assert.equal(verifySignature({ headers: headers('m1', T, both), body, secrets, now: at(T) }).msgId, 'm1');
    }
    rejects(
      () => verifySignature({ headers: headers('m1', T, both), body, secrets: [other], now: at(T) }),
      'HW_SIGNATURE_INVALID',
    );
  });

  test('v1a Ed25519: signed with whsk_, verified with whpk_; mixed with v1', () => {
    const key = generateEd25519Key();
    assert.match(key.secret, /^whsk_[A-Za-z0-9+/]{43}=$/);
    assert.match(key.publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
    const secret = generateSecret();
    const sig = sign({ msgId: 'm2', timestamp: T, body, secrets: [secret, key.secret] });
    assert.match(sig, /^v1,\S+ v1a,\S+$/);
    const h = headers('m2', T, sig);
    assert.equal(verifySignature({ headers: h, body, publicKeys: [key.publicKey], now: at(T) }).msgId, 'm2');
    rejects(
      () => verifySignature({ headers: h, body, publicKeys: [generateEd25519Key().publicKey], now: at(T) }),
      'HW_SIGNATURE_INVALID',
    );
    rejects(
      () => verifySignature({ headers: h, body: body + 'x', publicKeys: [key.publicKey], now: at(T) }),
      'HW_SIGNATURE_INVALID',
    );
  });

  test('whsk_ accepts a raw seed, seed+public key and PKCS#8, all signing alike', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const seed = pkcs8.subarray(-32);
    const forms = [seed, Buffer.concat([seed, raw]), pkcs8].map((b) => 'whsk_' + b.toString('base64'));
    const sigs = forms.map((s) => sign({ msgId: 'm', timestamp: T, body, secrets: [s] }));
    assert.equal(new Set(sigs).size, 1); // Ed25519 is deterministic
    const pk = 'whpk_' + raw.toString('base64');
    assert.equal(
      verifySignature({ headers: headers('m', T, sigs[0]!), body, publicKeys: [pk], now: at(T) }).msgId,
      'm',
    );
  });
});

describe('timestamps and headers', () => {
  const secret = generateSecret();
  const check = createSignatureChecker({ secrets: [secret], toleranceSeconds: 300, now: at(T) });
  const signed = (ts: number, msgId = 'm') =>
    headers(msgId, ts, sign({ msgId, timestamp: ts, body, secrets: [secret] }));

  test('within the tolerance on both sides passes, one second beyond fails', () => {
    assert.equal(check(signed(T - 300), body).timestamp, T - 300);
    assert.equal(check(signed(T + 300), body).timestamp, T + 300);
    rejects(() => check(signed(T - 301), body), 'HW_TIMESTAMP_OUT_OF_RANGE');
    rejects(() => check(signed(T + 301), body), 'HW_TIMESTAMP_OUT_OF_RANGE');
  });

  test('acceptedUntilMs is the first instant the timestamp is refused, for any tolerance', () => {
    const checkAt = (nowMs: number, tolerance: number) =>
      createSignatureChecker({ secrets: [secret], toleranceSeconds: tolerance, now: () => nowMs })(signed(T), body);
    fc.assert(
      fc.property(
        fc.integer({ min: -700_000, max: 700_000 }),
        fc.oneof(fc.integer({ min: 1, max: 600 }), fc.double({ min: 0.001, max: 600, noNaN: true })),
        (offsetMs, tolerance) => {
          const nowMs = T * 1000 + offsetMs;
          // the rule as documented: whole seconds of the clock, within the tolerance on both sides
          const accepted = Math.abs(Math.floor(nowMs / 1000) - T) <= tolerance;
          try {
            checkAt(nowMs, tolerance);
          } catch (err) {
            assert.ok(err instanceof VerificationError && err.code === 'HW_TIMESTAMP_OUT_OF_RANGE', String(err));
            return !accepted;
          }
          assert.ok(accepted);
          const until = acceptedUntilMs(T, tolerance);
          // the bound outlives every accepted instant and is tight: accepted just before, refused at it
          assert.ok(nowMs < until);
          assert.ok(checkAt(until - 1, tolerance));
          rejects(() => checkAt(until, tolerance), 'HW_TIMESTAMP_OUT_OF_RANGE');
          return true;
        },
      ),
      { numRuns: 300 },
    );
    assert.equal(acceptedUntilMs(T, 300), (T + 301) * 1000);
  });

  test('missing, empty, duplicated or malformed headers are refused with their code', () => {
    const good = signed(T);
    rejects(() => check({}, body), 'HW_SIGNATURE_MISSING');
    rejects(() => check({ ...good, 'webhook-signature': undefined }, body), 'HW_SIGNATURE_MISSING');
    rejects(() => check({ ...good, 'webhook-id': '' }, body), 'HW_SIGNATURE_MISSING');
    rejects(() => check({ ...good, 'webhook-id': ['a', 'b'] }, body), 'HW_SIGNATURE_INVALID');
    rejects(() => check({ ...good, 'webhook-timestamp': '1.8e9' }, body), 'HW_SIGNATURE_INVALID');
    rejects(() => check({ ...good, 'webhook-timestamp': `0${T}` }, body), 'HW_SIGNATURE_INVALID');
    rejects(() => check({ ...good, 'webhook-signature': 'v2,abc v1 v1,!!!!' }, body), 'HW_SIGNATURE_INVALID');
    rejects(() => check({ ...good, 'webhook-signature': 'v1,AAAA '.repeat(17) }, body), 'HW_SIGNATURE_INVALID');
    // a signature for another message id does not carry over
    rejects(() => check({ ...signed(T, 'other'), 'webhook-id': 'm' }, body), 'HW_SIGNATURE_INVALID');
    // repeated signature headers are joined, as proxies may split them
    assert.equal(check({ ...good, 'webhook-signature': ['v1,AAAA', good['webhook-signature']] }, body).msgId, 'm');
  });

  test('two signature header lines joined with ", " (node:http, fetch) still match, the valid one first', () => {
    const good = signed(T);
    const valid = good['webhook-signature'];
    const other = sign({ msgId: 'm', timestamp: T, body, secrets: [generateSecret()] });
    for (const text of [`${valid}, ${other}`, `${other}, ${valid}`, `${valid},${' '}${other}, ${other}`, `${valid},`]) {
      assert.equal(check({ ...good, 'webhook-signature': text }, body).msgId, 'm', text);
    }
    rejects(() => check({ ...good, 'webhook-signature': `${other}, ${other}` }, body), 'HW_SIGNATURE_INVALID');
  });

  test('arbitrary header values only ever raise VerificationError', () => {
    const value = fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.constant(undefined));
    fc.assert(
      fc.property(value, value, value, fc.string(), (id, ts, sig, b) => {
        try {
          check({ 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }, b);
          return false; // forging a signature by chance would be a bug
        } catch (err) {
          return err instanceof VerificationError;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('ids holding a dot', () => {
  test('are refused unless allowDotsInId: the signed text can be split another way', () => {
    const secret = generateSecret();
    const now = at(T);
    // the one signature stands for both readings of "a.1800000000.<T>.{...}"
    const signature = sign({ msgId: `a.${T}`, timestamp: T, body, secrets: [secret] });
    const resplit = sign({ msgId: 'a', timestamp: T, body: `${T}.${body}`, secrets: [secret] });
    assert.equal(signature, resplit);
    rejects(
      () => verifySignature({ secrets: [secret], now, headers: headers(`a.${T}`, T, signature), body }),
      'HW_SIGNATURE_INVALID',
    );
    assert.throws(
      () => verifySignature({ secrets: [secret], now, headers: headers(`a.${T}`, T, signature), body }),
      /webhook-id holds a '\.'/,
    );
    const allowed = verifySignature({
      secrets: [secret],
      now,
      allowDotsInId: true,
      headers: headers(`a.${T}`, T, signature),
      body,
    });
    assert.deepEqual(allowed, { msgId: `a.${T}`, timestamp: T });
    // ids without dots, as the platform's are, are unaffected
    const plain = sign({ msgId: 'msg_2Ll', timestamp: T, body, secrets: [secret] });
    assert.ok(verifySignature({ secrets: [secret], now, headers: headers('msg_2Ll', T, plain), body }));
    assert.throws(
      () => createSignatureChecker({ secrets: [secret], allowDotsInId: 'yes' as unknown as boolean }),
      /allowDotsInId/,
    );
  });
});

describe('options are validated once, naming the field', () => {
  test('bad secrets, keys and tolerances', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => createSignatureChecker({}), /secrets/],
      [() => createSignatureChecker({ secrets: ['nope'] }), /secrets\[0\]/],
      [() => createSignatureChecker({ secrets: [generateSecret(), 'whsec_!!'] }), /secrets\[1\].*base64/],
      [
        () => createSignatureChecker({ secrets: ['whsec_' + Buffer.alloc(8).toString('base64')] }),
        /secrets\[0\].*8 bytes/,
      ],
      [() => createSignatureChecker({ publicKeys: ['whpk_AAAA'] }), /publicKeys\[0\]/],
      [() => createSignatureChecker({ secrets: [generateSecret()], toleranceSeconds: 0 }), /toleranceSeconds/],
      [() => sign({ msgId: '', timestamp: T, body, secrets: [generateSecret()] }), /msgId/],
      [() => sign({ msgId: 'm', timestamp: 1.5, body, secrets: [generateSecret()] }), /timestamp/],
      [() => sign({ msgId: 'm', timestamp: T, body, secrets: [] }), /secrets/],
      [() => sign({ msgId: 'm', timestamp: T, body, secrets: ['whsk_AAAA'] }), /secrets\[0\]/],
    ];
    for (const [fn, message] of cases) {
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof HookwardenError);
        assert.equal(err.code, 'HW_POLICY_INVALID');
        assert.match(err.message, message);
        return true;
      });
    }
  });

  test('generated secrets have the whsec_ format and 32 random bytes', () => {
    const a = generateSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(a, generateSecret());
  });
});
