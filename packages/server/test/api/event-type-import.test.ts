import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { Svix } from 'svix';
import { eventTypesFromOpenApi, specOf } from '../../src/api/event-type-import.ts';
import { type Harness, startWithSdk } from './harness.ts';

const SPEC_YAML = `
openapi: 3.1.0
info: { title: Shop, version: '1' }
webhooks:
  order.placed:
    post:
      summary: An order was placed
      x-svix-group-name: orders
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Order' }
            examples:
              small: { value: { id: o_1, total: 5 } }
  order.cancelled:
    post:
      description: An order was cancelled
      deprecated: true
      requestBody: { $ref: '#/components/requestBodies/OrderBody' }
components:
  requestBodies:
    OrderBody:
      content:
        application/json:
          schema: { $ref: '#/components/schemas/Order' }
          example: { id: o_2, total: 7 }
  schemas:
    Order:
      type: object
      required: [id]
      properties:
        id: { type: string }
        total: { type: number }
        parent: { $ref: '#/components/schemas/Order' }
`;

/** What a $ref to Order inlines to: itself, with the ref back into it kept. */
const ORDER = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' }, total: { type: 'number' }, parent: { $ref: '#/components/schemas/Order' } },
};

const errorOf = (fn: () => unknown): { code: string; loc: string[] } => {
  try {
    fn();
  } catch (err) {
    return err as { code: string; loc: string[] };
  }
  throw new Error('no error');
};

test('webhooks become event types: names, descriptions, groups, deprecation, inlined schemas with examples', () => {
  assert.deepEqual(eventTypesFromOpenApi(specOf({ specRaw: SPEC_YAML })), [
    {
      name: 'order.placed',
      description: 'An order was placed',
      deprecated: false,
      groupName: 'orders',
      schemas: { '1': { ...ORDER, examples: [{ id: 'o_1', total: 5 }] } },
    },
    {
      name: 'order.cancelled',
      description: 'An order was cancelled',
      deprecated: true,
      groupName: null,
      schemas: { '1': { ...ORDER, examples: [{ id: 'o_2', total: 7 }] } },
    },
  ]);
  // OpenAPI 3.0's x-webhooks, given as JSON; a webhook without a JSON body has no schema.
  const v30 = { openapi: '3.0.3', 'x-webhooks': { ping: { post: { summary: 'Ping' } } } };
  assert.deepEqual(eventTypesFromOpenApi(specOf({ spec: v30 })), [
    { name: 'ping', description: 'Ping', deprecated: false, groupName: null, schemas: null },
  ]);
});

test('a bad document is a 422 naming where it is bad', () => {
  const cases: [{ spec?: unknown; specRaw?: string }, string[]][] = [
    [{}, ['body', 'spec']],
    [{ spec: { webhooks: {} }, specRaw: '{}' }, ['body', 'spec']],
    [{ specRaw: 'webhooks: [unclosed' }, ['body', 'specRaw']],
    [{ specRaw: '42' }, ['body', 'spec']],
    [{ spec: { openapi: '3.1.0' } }, ['body', 'spec', 'webhooks']],
    [{ spec: { webhooks: { 'bad name': { post: {} } } } }, ['body', 'spec', 'webhooks', 'bad name']],
    [{ spec: { webhooks: { a: { get: {} } } } }, ['body', 'spec', 'webhooks', 'a']],
    [
      { spec: { webhooks: { a: { post: { requestBody: { $ref: 'https://example.com/x.json' } } } } } },
      ['body', 'spec', 'webhooks', 'a', 'requestBody'],
    ],
    [
      { spec: { webhooks: { a: { post: { requestBody: { $ref: '#/components/nothing' } } } } } },
      ['body', 'spec', 'webhooks', 'a', 'requestBody'],
    ],
    [
      { spec: { webhooks: { a: { post: { requestBody: { $ref: '#/x' } } } }, x: { $ref: '#/x' } } },
      ['body', 'spec', 'webhooks', 'a', 'requestBody'],
    ],
  ];
  // Each level refers to the next ten times: 10^8 values if inlined, from a document of 80 lines.
  const schemas: Record<string, unknown> = { L8: { type: 'string' } };
  for (let i = 0; i < 8; i++) {
    const next = { $ref: `#/components/schemas/L${i + 1}` };
    schemas[`L${i}`] = {
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`p${k}`, next])),
    };
  }
  const bomb = { content: { 'application/json': { schema: { $ref: '#/components/schemas/L0' } } } };
  cases.push([
    { spec: { webhooks: { a: { post: { requestBody: bomb } } }, components: { schemas } } },
    ['body', 'spec', 'webhooks', 'a', 'schema'],
  ]);
  for (const [body, loc] of cases) {
    const err = errorOf(() => eventTypesFromOpenApi(specOf(body)));
    assert.equal(err.code, 'HW_VALIDATION_FAILED', JSON.stringify(body));
    assert.deepEqual(err.loc, loc, JSON.stringify(body));
  }
});

test('property: any document, as JSON or as text, gives event types or a 422, never another error', () => {
  const webhook = fc.record({
    post: fc.record(
      {
        summary: fc.string(),
        requestBody: fc.oneof(fc.jsonValue(), fc.record({ $ref: fc.constantFrom('#/a', '#/b/c', '#/', 'x') })),
      },
      { requiredKeys: [] },
    ),
  });
  const doc = fc.record(
    {
      webhooks: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(webhook, fc.jsonValue())),
      a: fc.jsonValue(),
      b: fc.dictionary(fc.constantFrom('c', 'd'), fc.oneof(fc.jsonValue(), fc.record({ $ref: fc.constant('#/a') }))),
    },
    { requiredKeys: [] },
  );
  const judge = (body: { spec?: unknown; specRaw?: string }) => {
    try {
      const out = eventTypesFromOpenApi(specOf(body));
      assert.ok(Array.isArray(out));
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'HW_VALIDATION_FAILED', String(err));
    }
  };
  fc.assert(
    fc.property(doc, fc.string(), (spec, text) => {
      judge({ spec });
      judge({ specRaw: JSON.stringify(spec) });
      judge({ specRaw: text });
    }),
    { numRuns: 300 },
  );
});

let h: Harness;
let svix: Svix;
before(async () => {
  ({ h, svix } = await startWithSdk());
});
after(() => h.close());

test('importOpenapi through the svix SDK: a dry run changes nothing; an import creates, updates and revives; replaceAll archives the rest', async () => {
  await svix.eventType.create({ name: 'order.cancelled', description: 'old' });
  await svix.eventType.delete('order.cancelled');
  await svix.eventType.create({ name: 'legacy.event', description: 'not in the document' });

  const dry = await svix.eventType.importOpenapi({ specRaw: SPEC_YAML, dryRun: true });
  assert.deepEqual(dry.data.modified, []);
  assert.deepEqual(
    dry.data.toModify?.map((t) => t.name),
    ['order.placed', 'order.cancelled'],
  );
  await assert.rejects(svix.eventType.get('order.placed'), (e: { code: number }) => e.code === 404);

  const done = await svix.eventType.importOpenapi({ specRaw: SPEC_YAML, replaceAll: true });
  assert.deepEqual(done.data.modified, ['order.placed', 'order.cancelled']);
  const placed = await svix.eventType.get('order.placed');
  assert.equal(placed.groupName, 'orders');
  assert.deepEqual(placed.schemas, { '1': { ...ORDER, examples: [{ id: 'o_1', total: 5 }] } });
  const cancelled = await svix.eventType.get('order.cancelled');
  assert.equal(cancelled.archived, false, 'revived');
  assert.equal(cancelled.deprecated, true);
  assert.equal(cancelled.description, 'An order was cancelled');
  assert.equal((await svix.eventType.get('legacy.event')).archived, true);

  // The imported example is what send-example delivers.
  const app = await svix.application.create({ name: 'Shop' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://shop.example/hook' });
  const sent = await svix.endpoint.sendExample(app.id, ep.id, { eventType: 'order.placed' });
  assert.deepEqual(sent.payload, { id: 'o_1', total: 5 });

  // Application tokens may not import.
  const { token } = await svix.authentication.appPortalAccess(app.id, {});
  const res = await h.request('POST', '/api/v1/event-type/import/openapi', { specRaw: SPEC_YAML }, token);
  assert.equal(res.status, 403);
});
