import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  HookwardenError,
  PolicyError,
  VERIFICATION_CODES,
  type VerificationCode,
  VerificationError,
} from '../src/errors.ts';
import { generateSecret, sign } from '../src/signature.ts';
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
