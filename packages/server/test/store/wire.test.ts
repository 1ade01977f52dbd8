import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { packClaim, packOutcomes, unpackClaim, unpackOutcomes } from '../../src/store/sqlite/wire.ts';
import type { AttemptTls, ClaimedDelivery, EndpointRow, MessageRow, Outcome } from '../../src/store/types.ts';
import { endpointRow } from './fixtures.ts';

const text = fc.string({ maxLength: 40 });
const strings = fc.option(fc.array(text, { maxLength: 3 }), { nil: null });
const time = fc.integer({ min: 0, max: 2 ** 45 });

const message: fc.Arbitrary<MessageRow> = fc.record(
  {
    id: text,
    appId: text,
    eventType: text,
    eventId: fc.option(text, { nil: null }),
    channels: strings,
    tags: strings,
    payload: fc.json(),
    createdAt: time,
  },
  { noNullPrototype: true },
);

const endpoint = (id: string): EndpointRow =>
  endpointRow('app_1', id, { channels: ['a'], metadata: { k: 'v' }, headers: { 'x-h': '1' } });

test('a claim survives packing unchanged (presigned signatures included), and shared messages and endpoints stay shared', () => {
  fc.assert(
    fc.property(
      fc.array(message, { minLength: 1, maxLength: 5 }),
      fc.array(
        fc.record({
          id: fc.nat(),
          attempts: fc.nat(20),
          triggerType: fc.nat(1),
          m: fc.nat(),
          e: fc.nat(2),
          rateLimit: fc.option(fc.nat(65535), { nil: null }),
          presigned: fc.option(fc.record({ timestamp: time, until: time, value: text }, { noNullPrototype: true }), {
            nil: undefined,
          }),
        }),
        { maxLength: 20 },
      ),
      (messages, picks) => {
        const endpoints = ['ep_a', 'ep_b', 'ep_c'].map(endpoint);
        const claim: ClaimedDelivery[] = picks.map((p) => ({
          id: p.id,
          attempts: p.attempts,
          triggerType: p.triggerType,
          message: messages[p.m % messages.length] as MessageRow,
          endpoint: endpoints[p.e] as EndpointRow,
          rateLimit: p.rateLimit,
          ...(p.presigned ? { presigned: p.presigned } : {}),
        }));
        // Through structured clone, as across the thread boundary.
        const back = unpackClaim(structuredClone(packClaim(claim)));
        assert.deepEqual(back, claim);
        for (let i = 0; i < claim.length; i++) {
          for (let j = 0; j < claim.length; j++) {
            const [a, b] = [claim[i] as ClaimedDelivery, claim[j] as ClaimedDelivery];
            const [x, y] = [back[i] as ClaimedDelivery, back[j] as ClaimedDelivery];
            assert.equal(x.message === y.message, a.message === b.message);
            assert.equal(x.endpoint === y.endpoint, a.endpoint === b.endpoint);
          }
        }
      },
    ),
  );
});

test('outcomes survive packing unchanged, absent optional fields included', () => {
  const tls: fc.Arbitrary<AttemptTls | null> = fc.option(
    fc.record(
      { protocol: text, cipher: text, peerFingerprintSha256: text, clientCertificateSent: fc.boolean() },
      { requiredKeys: ['protocol', 'cipher', 'clientCertificateSent'], noNullPrototype: true },
    ),
    { nil: null },
  );
  const outcome: fc.Arbitrary<Outcome> = fc.record(
    {
      deliveryId: fc.nat(),
      nextAttemptAt: time,
      disableEndpoint: fc.boolean(),
      attempt: fc.record(
        {
          id: text,
          msgId: text,
          endpointId: text,
          appId: text,
          url: text,
          status: fc.constantFrom(0, 1, 2, 3),
          statusCode: fc.nat(599),
          response: text,
          durationMs: fc.nat(),
          failureKind: fc.option(text, { nil: null }),
          failureMessage: fc.option(text, { nil: null }),
          tls,
          triggerType: fc.nat(1),
          createdAt: time,
        },
        { noNullPrototype: true },
      ),
    },
    { requiredKeys: ['deliveryId', 'attempt'], noNullPrototype: true },
  ) as fc.Arbitrary<Outcome>;
  fc.assert(
    fc.property(fc.array(outcome, { maxLength: 20 }), (outcomes) => {
      assert.deepEqual(unpackOutcomes(structuredClone(packOutcomes(outcomes))), outcomes);
    }),
  );
});
