import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveForCheck } from '../../src/checker/dns.ts';
import { runCheck } from '../../src/checker/index.ts';
import { resolveAllowed } from '../../src/delivery/ssrf.ts';

// A public answer for every name: only the RFC 6761 rule can refuse these. Nothing is dialled.
const PUBLIC = '93.184.215.14';

function countingLookup(): { lookup: () => Promise<{ address: string; family: 4 }[]>; calls: () => number } {
  let calls = 0;
  return {
    lookup: async () => {
      calls++;
      return [{ address: PUBLIC, family: 4 }];
    },
    calls: () => calls,
  };
}

test('localhost names are refused as delivery refuses them (RFC 6761), without resolving them', async () => {
  for (const host of ['localhost', 'hooks.localhost', 'HOOKS.LOCALHOST.']) {
    const { lookup, calls } = countingLookup();
    const checked = await resolveForCheck(host, { allowPrivateTargets: false, lookup });
    assert.equal(checked.dial, undefined, host);
    assert.match(checked.refused ?? '', /RFC 6761/, host);
    assert.equal(calls(), 0, host);
    await assert.rejects(resolveAllowed(host, { allowPrivateTargets: false, lookup }), {
      code: 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS',
    });
  }
  // Development setups may use them, as delivery does with private targets allowed.
  const { lookup } = countingLookup();
  const allowed = await resolveForCheck('hooks.localhost', { allowPrivateTargets: true, lookup });
  assert.equal(allowed.dial, PUBLIC);
  assert.equal(allowed.refused, undefined);
  // A name that merely contains the word is an ordinary name.
  const ordinary = await resolveForCheck('localhost.example.com', { allowPrivateTargets: false, lookup });
  assert.equal(ordinary.dial, PUBLIC);
});

test('a check of a localhost name is an ADDRESS_FORBIDDEN finding, nothing dialled', async () => {
  const { lookup, calls } = countingLookup();
  const report = await runCheck({ url: 'https://hooks.localhost/in', lookup });
  assert.deepEqual(
    report.findings.map((f) => f.code),
    ['HW_CHECK_ADDRESS_FORBIDDEN'],
  );
  assert.match(report.findings[0]!.message, /hooks\.localhost is a loopback name \(RFC 6761\)/);
  assert.equal(report.connect.address, undefined);
  assert.equal(calls(), 0);
});
