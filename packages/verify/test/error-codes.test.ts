import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listen } from '@hookwarden/testkit';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import { bodyAlreadyParsed } from '../src/body.ts';
import { dnFromDer, parseDn } from '../src/dn.ts';
import {
  ERROR_CODES,
  errorResponse,
  HookwardenError,
  PolicyError,
  SETUP_CODES,
  VERIFICATION_CODES,
  type VerificationCode,
  VerificationError,
} from '../src/errors.ts';
import { fastifyVerifier } from '../src/fastify.ts';
import { honoVerifier } from '../src/hono.ts';
import { verifiedHandler } from '../src/node.ts';
import { generateProxyConfig } from '../src/proxy-config/index.ts';
import { generateSecret, sign } from '../src/signature.ts';
import { materialFrom } from '../src/trust-document.ts';
import { createVerifier, type VerifyRequest } from '../src/verifier.ts';

const EXPECTED_STATUS: Record<VerificationCode, number> = {
  HW_HTTPS_REQUIRED: 403,
  HW_CERT_MISSING: 401,
  HW_CERT_INVALID: 400,
  HW_CERT_UNTRUSTED: 403,
  HW_CERT_EXPIRED: 403,
  HW_CERT_USAGE: 403,
  HW_SUBJECT_MISMATCH: 403,
  HW_SAN_MISMATCH: 403,
  HW_PIN_MISMATCH: 403,
  HW_PROXY_UNTRUSTED: 403,
  HW_PROXY_HEADER_INVALID: 400,
  HW_FORWARDED_INVALID: 400,
  HW_IP_DENIED: 403,
  HW_SIGNATURE_MISSING: 401,
  HW_SIGNATURE_INVALID: 401,
  HW_TIMESTAMP_OUT_OF_RANGE: 401,
  HW_REPLAYED: 409,
  HW_TRUST_DOCUMENT_UNAVAILABLE: 503,
  HW_BODY_TOO_LARGE: 413,
  HW_BODY_INVALID: 400,
  HW_BODY_NOT_JSON: 400,
};

test('every verification code: stable name, status, default message, {code, detail}', () => {
  assert.deepEqual(Object.keys(VERIFICATION_CODES).sort(), Object.keys(EXPECTED_STATUS).sort());
  for (const [code, status] of Object.entries(EXPECTED_STATUS) as [VerificationCode, number][]) {
    assert.match(code, /^HW_[A-Z0-9_]+$/);
    const err = new VerificationError(code);
    assert.ok(err instanceof HookwardenError);
    assert.equal(err.name, 'VerificationError');
    assert.equal(err.status, status, code);
    assert.ok(err.message.length > 10, code);
    assert.deepEqual(err.toJSON(), { code, detail: VERIFICATION_CODES[code].message });
    assert.equal(new VerificationError(code, 'specific').toJSON().detail, 'specific');
  }
  const policy = new PolicyError('signature.secrets[0]', 'must be a whsec_ secret');
  assert.deepEqual(policy.toJSON(), {
    code: 'HW_POLICY_INVALID',
    detail: 'signature.secrets[0]: must be a whsec_ secret',
  });
});

test('every code is raised somewhere in the sources (none is dead)', () => {
  const dir = new URL('../src/', import.meta.url).pathname;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && f !== 'errors.ts',
  );
  const source = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  for (const code of Object.keys(VERIFICATION_CODES))
    assert.ok(source.includes(`'${code}'`), `${code} is never raised`);
});

/** Every HW_ code written in the sources (the package's own, not other packages'). */
function codesInSources(): Set<string> {
  const dir = new URL('../src/', import.meta.url).pathname;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && f !== 'errors.ts',
  );
  const source = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  return new Set([...source.matchAll(/'(HW_[A-Z0-9_]+)'/g)].map((m) => m[1]!));
}

test('every code the sources throw or answer is in the error table', () => {
  const found = codesInSources();
  assert.ok(found.size > 20, 'the scan finds the codes');
  for (const code of found) assert.ok(code in ERROR_CODES, `${code} is thrown but not in ERROR_CODES`);
  assert.deepEqual(
    Object.keys(ERROR_CODES).sort(),
    [...Object.keys(VERIFICATION_CODES), ...Object.keys(SETUP_CODES)].sort(),
  );
});

test('every setup code is thrown or answered with the status of its table entry', async () => {
  type Seen = { code: string; status: number };
  const thrown = (fn: () => unknown): Seen => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof HookwardenError, String(err));
      return { code: err.code, status: err.status };
    }
    assert.fail('nothing thrown');
  };
  const answered = async (res: Response): Promise<Seen> => ({
    code: ((await res.json()) as { code: string }).code,
    status: res.status,
  });
  const open = createVerifier({ ipAllowlist: ['127.0.0.1'] });
  const server = createServer(verifiedHandler(open, (_req, res) => void res.end(), { path: '/hook' }));
  const port = await listen(server);
  after(() => server.close());
  const internal = errorResponse(new Error('internals'));
  let verified: ((request: FastifyRequest) => unknown) | undefined;
  await Fastify().register(
    fastifyVerifier(open, (_scope, v) => {
      verified = v;
    }),
  );
  const seen: Record<keyof typeof SETUP_CODES, Seen> = {
    HW_POLICY_INVALID: thrown(() => createVerifier({})),
    HW_BODY_ALREADY_PARSED: thrown(() => {
      throw bodyAlreadyParsed('mount it first');
    }),
    HW_BODY_NOT_READ: await (async () => {
      const unread = await open.verify({
        method: 'POST',
        url: '/',
        headers: {},
        body: async () => assert.fail('no check needs the body'),
        remoteAddress: '127.0.0.1',
      });
      return thrown(() => unread.payload);
    })(),
    HW_CONNECTION_UNKNOWN: await answered(
      await new Hono().post('/', honoVerifier(open)).request('/', { method: 'POST', body: '{}' }),
    ),
    HW_NOT_FOUND: await answered(await fetch(`http://127.0.0.1:${port}/health`)),
    HW_NOT_VERIFIED: thrown(() => verified!({} as FastifyRequest)),
    HW_TRUST_DOCUMENT_INVALID: thrown(() => materialFrom({})),
    HW_DN_INVALID: thrown(() => parseDn('no equals sign')),
    HW_DN_DER_INVALID: thrown(() => dnFromDer(new Uint8Array([0x30, 0x05]))),
    HW_PROXY_CONFIG_INVALID: thrown(() => generateProxyConfig('apache' as never, {} as never)),
    HW_INTERNAL: { code: internal.body.code, status: internal.status },
  };
  for (const [code, { status }] of Object.entries(SETUP_CODES)) {
    assert.deepEqual(seen[code as keyof typeof SETUP_CODES], { code, status }, code);
  }
});

test('scenario table: the request decides the code', async () => {
  const secret = generateSecret();
  const now = 1_800_000_000_000;
  const ts = now / 1000;
  const signedHeaders = (id: string, t = ts) => ({
    'webhook-id': id,
    'webhook-timestamp': String(t),
    'webhook-signature': sign({ msgId: id, timestamp: t, body: '', secrets: [secret] }),
  });
  const v = createVerifier({
    https: true,
    trustedProxies: ['10.0.0.0/8'],
    ipAllowlist: ['198.51.100.0/24'],
    signature: { secrets: [secret] },
    replay: true,
    now: () => now,
  });
  const base = (over: Partial<VerifyRequest>): VerifyRequest => ({
    method: 'POST',
    url: '/',
    headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1', ...signedHeaders('m0') },
    body: new Uint8Array(),
    remoteAddress: '10.0.0.1',
    ...over,
  });
  const table: [string, Partial<VerifyRequest>, VerificationCode][] = [
    ['plain http', { remoteAddress: '198.51.100.1', headers: {} }, 'HW_HTTPS_REQUIRED'],
    [
      'outside the allowlist',
      { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '192.0.2.1' } },
      'HW_IP_DENIED',
    ],
    [
      'garbage forwarded-for',
      { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': 'x' } },
      'HW_FORWARDED_INVALID',
    ],
    [
      'no signature',
      { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1' } },
      'HW_SIGNATURE_MISSING',
    ],
    [
      'stale',
      {
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1', ...signedHeaders('m1', ts - 301) },
      },
      'HW_TIMESTAMP_OUT_OF_RANGE',
    ],
    ['wrong body', { body: new Uint8Array([1]) }, 'HW_SIGNATURE_INVALID'],
  ];
  for (const [name, over, code] of table) {
    await assert.rejects(
      v.verify(base(over)),
      (err: unknown) => err instanceof VerificationError && err.code === code,
      name,
    );
  }
  assert.ok(await v.verify(base({})));
  await assert.rejects(
    v.verify(base({})),
    (err: unknown) => err instanceof VerificationError && err.code === 'HW_REPLAYED',
  );
});
