import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialledRefusal } from '../../src/delivery/connector.ts';
import type { LookupAddress } from '../../src/delivery/ssrf.ts';

// The connect-time check as a function: which dialled addresses pass for which checked ones. Only
// decided here, never dialled (client-http.test.ts dials loopback).

const v6 = (address: string): LookupAddress => ({ address, family: 6 });
const v4 = (address: string): LookupAddress => ({ address, family: 4 });

test('the dialled address is compared parsed with the checked ones, not as text', () => {
  const cases: [string, LookupAddress[], boolean][] = [
    ['::1', [v6('0:0:0:0:0:0:0:1')], true],
    ['2606:4700::6810:84e5', [v6('2606:4700:0:0:0:0:6810:84E5')], false],
    ['::ffff:93.184.215.14', [v4('93.184.215.14')], false],
    ['93.184.215.14', [v6('::ffff:5db8:d70e')], false],
  ];
  for (const [dialled, checked, privateAllowed] of cases) {
    assert.equal(dialledRefusal('svc.example', dialled, checked, privateAllowed), undefined, dialled);
  }
});

test('a dialled address that is not among the checked ones is refused, saying so', () => {
  const literal = dialledRefusal('93.184.215.14', '10.0.0.7', [v4('93.184.215.14')], false);
  assert.equal(literal?.code, 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS');
  assert.equal(
    literal?.message,
    'refused to talk to 10.0.0.7: it is not among the addresses checked for 93.184.215.14',
  );
  const unknown = dialledRefusal('93.184.215.14', undefined, [v4('93.184.215.14')], true);
  assert.equal(
    unknown?.message,
    'refused to talk to an unknown address: it is not among the addresses checked for 93.184.215.14',
  );
  for (const err of [literal, unknown]) assert.doesNotMatch(err?.message ?? '', /undefined/);
});

test('a forbidden dialled address is refused with its reason, unless private targets are allowed', () => {
  assert.match(
    dialledRefusal('127.0.0.1', '127.0.0.1', [v4('127.0.0.1')], false)?.message ?? '',
    /^refused to talk to 127\.0\.0\.1: it is not a public address: loopback/,
  );
  assert.equal(dialledRefusal('127.0.0.1', '127.0.0.1', [v4('127.0.0.1')], true), undefined);
});

test('for a host name the message leaves the dialled address out; logDetail keeps it', () => {
  const stray = dialledRefusal('db.example', '10.20.30.40', [v4('93.184.215.14')], false);
  assert.equal(
    stray?.message,
    'refused to talk to the address dialled for db.example: it is not among the addresses checked for db.example',
  );
  assert.match(stray?.logDetail ?? '', /^refused to talk to 10\.20\.30\.40: .* \(dialled for db\.example\)$/);
  const forbidden = dialledRefusal('db.example', '10.20.30.40', [v4('10.20.30.40')], false);
  assert.equal(forbidden?.message, 'refused to talk to the address dialled for db.example: it is not a public address');
  assert.match(forbidden?.logDetail ?? '', /10\.20\.30\.40: it is not a public address: private \(RFC 1918/);
});
