import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEd25519Key, generateSecret, verifySignature } from '@hookwarden/verify/signature';
import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { hmacSignerAt, presign, signedHeaders } from '../../src/delivery/signing.ts';
import type { ClaimedDelivery, MessageRow } from '../../src/store/types.ts';
import { endpointRow } from '../store/fixtures.ts';

const nowSeconds = 1_764_320_000;

const messageRow = (id: string): MessageRow => ({
  id,
  appId: 'app_1',
  eventType: 'invoice.paid',
  eventId: null,
  channels: null,
  tags: null,
  payload: '{"type":"invoice.paid","data":{"id":"in_1"}}',
  createdAt: 1,
});

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

test('presign: exactly the signature the dispatcher would make at any instant before `until` in that second', () => {
  const second = 1_764_320_000_000;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 999 }),
      fc.array(fc.option(fc.integer({ min: -2000, max: 3000 }), { nil: null }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 0, max: 999 }),
      (claimedMs, expiries, laterMs) => {
        const now = second + claimedMs;
        const endpoint = endpointRow('app_1', 'ep_1', {
          secrets: expiries.map((e) => ({ key: generateSecret(), expiresAt: e === null ? null : now + e })),
        });
        const row: ClaimedDelivery = {
          id: 1,
          attempts: 0,
          triggerType: 0,
          message: messageRow('msg_1'),
          endpoint,
          rateLimit: null,
        };
        presign([row], now);
        const live = endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now);
        if (live.length === 0) {
          assert.equal(row.presigned, undefined);
          return;
        }
        const p = row.presigned as NonNullable<ClaimedDelivery['presigned']>;
        assert.equal(p.timestamp, Math.floor(now / 1000));
        assert.ok(p.until > now && p.until <= second + 1000);
        // Any later instant the dispatcher would accept it at signs the same bytes afresh.
        const at = Math.max(now, second + laterMs);
        if (at < p.until) {
          assert.equal(p.value, hmacSignerAt(endpoint, at).sign('msg_1', p.timestamp, row.message.payload));
        } else {
          // Past `until` a secret has expired: signed afresh, the value differs (or no secret is left).
          const rest = endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > at);
          if (rest.length > 0) {
            assert.notEqual(p.value, hmacSignerAt(endpoint, at).sign('msg_1', p.timestamp, row.message.payload));
          }
        }
        const headers = {
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(p.timestamp),
          'webhook-signature': p.value,
        };
        for (const s of live) {
          verifySignature({ headers, body: row.message.payload, secrets: [s.key], now: () => now });
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('presign leaves Ed25519 endpoints and endpoints without a live secret to the dispatcher', () => {
  const now = 1_764_320_000_500;
  const ed = endpointRow('app_1', 'ep_ed', { signing: 'ed25519' });
  const expired = endpointRow('app_1', 'ep_old', { secrets: [{ key: generateSecret(), expiresAt: now - 1 }] });
  const rows: ClaimedDelivery[] = [ed, expired].map((endpoint, i) => ({
    id: i,
    attempts: 0,
    triggerType: 0,
    message: messageRow(`msg_${i}`),
    endpoint,
    rateLimit: null,
  }));
  presign(rows, now);
  assert.deepEqual(
    rows.map((r) => r.presigned),
    [undefined, undefined],
  );
});
