import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { errorReply } from '../src/api/errors.ts';
import { SERVER_CODES, type ServerCode, ServerError, serverError } from '../src/errors.ts';

const STATUS: Record<ServerCode, number> = {
  HW_BAD_REQUEST: 400,
  HW_PAYLOAD_EXPUNGED: 400,
  HW_AUTH_FAILED: 401,
  HW_FORBIDDEN: 403,
  HW_NOT_FOUND: 404,
  HW_CONFLICT: 409,
  HW_EVENT_TYPE_EXISTS: 409,
  HW_PAYLOAD_TOO_LARGE: 413,
  HW_VALIDATION_FAILED: 422,
  HW_INTERNAL: 500,
  HW_CHECK_URL_INVALID: 400,
  HW_CHECK_BUSY: 429,
  HW_CHECK_UNAVAILABLE: 503,
  HW_TRUST_UNAVAILABLE: 503,
  HW_ENDPOINT_URL_INVALID: 422,
  HW_ENDPOINT_URL_SCHEME: 422,
  HW_ENDPOINT_URL_HTTP_NOT_ALLOWED: 422,
  HW_ENDPOINT_URL_FORBIDDEN_ADDRESS: 422,
  HW_ENDPOINT_URL_UNRESOLVABLE: 422,
  HW_SESSION_REQUIRED: 401,
  HW_CSRF_INVALID: 403,
  HW_OPTION_INVALID: 500,
  HW_STORE_UNAVAILABLE: 503,
  HW_STORE_FAILED: 500,
  HW_STORE_CLOSED: 500,
  HW_SCHEMA_TOO_NEW: 500,
  HW_DATABASE_UNSUPPORTED: 500,
  HW_DATA_DIR_IN_USE: 500,
  HW_MASTER_KEY_INVALID: 500,
  HW_MASTER_KEY_MISMATCH: 500,
  HW_SEALED_INVALID: 500,
};

test('every server code: stable name, status, default message; the API answers Svix’s code, ours, or nothing', () => {
  assert.deepEqual(Object.keys(SERVER_CODES).sort(), Object.keys(STATUS).sort());
  for (const [code, status] of Object.entries(STATUS) as [ServerCode, number][]) {
    const entry: { status: number; message: string; svix?: string; internal?: true } = SERVER_CODES[code];
    assert.match(code, /^HW_[A-Z0-9_]+$/);
    const err = serverError(code);
    assert.ok(err instanceof ServerError);
    assert.equal(err.status, status, code);
    assert.ok(err.message.length > 8, code);
    assert.equal(serverError(code, 'specific').message, 'specific');
    const reply = errorReply(err, 1024);
    if (entry.internal) {
      assert.equal(reply, undefined, `${code} is internal: never told`);
      continue;
    }
    assert.equal(reply?.status, status, code);
    assert.equal(reply?.body.code, entry.svix ?? code, code);
    if (status !== 422) assert.equal(reply?.body.detail, entry.message, code);
  }
  const wire = Object.entries(SERVER_CODES).flatMap(([code, e]) =>
    'internal' in e ? [] : ['svix' in e ? e.svix : code],
  );
  assert.equal(new Set(wire).size, wire.length, 'no wire code answers two cases');
  // A code that is no own property of the table is internal, not a prototype member's status.
  assert.equal(errorReply(new ServerError('toString', 'x'), 1024), undefined);
});

test('every code the server raises by name is in the table, and every code of the table is raised', () => {
  const dir = new URL('../src/', import.meta.url).pathname;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  // errors.ts without its table: the helpers there raise codes too.
  const sources = files.map((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    return f === 'errors.ts' ? text.slice(text.indexOf('export type ServerCode')) : text;
  });
  const raised = new Set(
    sources.flatMap((s) => [...s.matchAll(/(?:serverError|ServerError)\('(HW_[A-Z0-9_]+)'/g)].map((m) => m[1])),
  );
  for (const code of raised)
    assert.ok(Object.hasOwn(SERVER_CODES, code as string), `${code} is raised but not in the table`);
  const all = sources.join('\n');
  for (const code of Object.keys(SERVER_CODES)) {
    assert.ok(all.includes(`'${code}'`), `${code} is in the table but raised nowhere`);
  }
});
