import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEd25519Key, generateSecret, verifySignature } from '@hookwarden/verify/signature';
import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { signedHeaders } from '../../src/delivery/signing.ts';

const nowSeconds = 1_764_320_000;

test('the standardwebhooks and svix packages accept what we sign', () => {
  fc.assert(
    fc.property(fc.json(), fc.stringMatching(/^msg_[A-Za-z0-9]{1,30}$/), (body, msgId) => {
      const secret = generateSecret();
      const headers = signedHeaders({ msgId, timestamp: nowSeconds, body, secrets: [secret] });
      assert.equal(headers['webhook-id'], msgId);
      assert.equal(headers['webhook-timestamp'], String(nowSeconds));
      const at = new Date(nowSeconds * 1000);
      const asRecord = { ...headers };
      // Both libraries read the wall clock; sign "now" for them.
      const live = signedHeaders({ msgId, timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] });
      assert.deepEqual(new StandardWebhook(secret).verify(body, live), JSON.parse(body));
      assert.deepEqual(new SvixWebhook(secret).verify(body, { ...live }), JSON.parse(body));
      assert.deepEqual(verifySignature({ headers: asRecord, body, secrets: [secret], now: () => at.getTime() }), {
        msgId,
        timestamp: nowSeconds,
      });
    }),
    { numRuns: 50 },
  );
});

test('rotation: one signature per secret, each verifiable alone; Ed25519 gives v1a', () => {
  const old = generateSecret();
  const next = generateSecret();
  const ed = generateEd25519Key();
  const body = '{"type":"invoice.paid"}';
  const headers = signedHeaders({ msgId: 'msg_1', timestamp: nowSeconds, body, secrets: [old, next, ed.secret] });
  const parts = headers['webhook-signature'].split(' ');
  assert.deepEqual(
    parts.map((p) => p.split(',')[0]),
    ['v1', 'v1', 'v1a'],
  );
  const now = () => nowSeconds * 1000;
  for (const secret of [old, next]) verifySignature({ headers, body, secrets: [secret], now });
  verifySignature({ headers, body, publicKeys: [ed.publicKey], now });
  assert.throws(() => verifySignature({ headers, body: `${body} `, secrets: [old], now }));
});
