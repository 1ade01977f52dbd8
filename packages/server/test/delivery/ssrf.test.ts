import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DeliveryError } from '../../src/delivery/errors.ts';
import { assertTargetAllowed, type LookupFn } from '../../src/delivery/ssrf.ts';

const table: Record<string, string[]> = {
  'public.example': ['93.184.215.14'],
  'rebind.example': ['127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'mixed.example': ['93.184.215.14', '10.1.2.3'],
  'v6.example': ['2606:4700::6810:84e5'],
  'mapped.example': ['::ffff:192.168.1.1'],
  'garbage.example': ['not-an-ip'],
};
const lookup: LookupFn = async (host) => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const strict = { allowPrivateTargets: false, allowHttp: false, lookup };

async function refusal(url: string, opts = strict): Promise<DeliveryError> {
  try {
    await assertTargetAllowed(url, opts);
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected DeliveryError, got ${err}`);
    return err;
  }
  assert.fail(`${url} was allowed`);
}

test('public https targets are allowed', async () => {
  await assertTargetAllowed('https://public.example/hooks', strict);
  await assertTargetAllowed('https://v6.example:8443/x', strict);
  await assertTargetAllowed('https://93.184.215.14/x', strict);
});

test('URLs are refused with a stable code and a reason', async () => {
  const cases: [string, string, RegExp][] = [
    ['not a url', 'HW_ENDPOINT_URL_INVALID', /not a valid URL/],
    ['ftp://public.example/', 'HW_ENDPOINT_URL_SCHEME', /ftp/],
    ['http://public.example/', 'HW_ENDPOINT_URL_HTTP_NOT_ALLOWED', /https/],
    ['https://127.0.0.1/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /loopback/],
    ['https://[::1]:8443/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /loopback/],
    ['https://[::ffff:10.0.0.1]/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /private/],
    ['https://169.254.169.254/latest/meta-data', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /link-local/],
    ['https://localhost/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /loopback name/],
    ['https://api.localhost./', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /loopback name/],
    ['https://rebind.example/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /rebind\.example resolves to a non-public/],
    ['https://metadata.example/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /non-public address/],
    ['https://mixed.example/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /non-public address/],
    ['https://mapped.example/', 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS', /non-public address/],
    ['https://garbage.example/', 'HW_ENDPOINT_URL_UNRESOLVABLE', /not an address/],
    ['https://nowhere.example/', 'HW_ENDPOINT_URL_UNRESOLVABLE', /ENOTFOUND/],
  ];
  for (const [url, code, why] of cases) {
    const err = await refusal(url);
    assert.equal(err.code, code, url);
    assert.equal(err.status, 422);
    assert.match(err.message, why, url);
    assert.deepEqual(Object.keys(err.toJSON()), ['code', 'detail']);
  }
});

test("a host name's refusal leaves out the address it resolves to (internal DNS); logDetail keeps it", async () => {
  const cases: [string, RegExp][] = [
    ['rebind.example', /^127\.0\.0\.1 \(resolved from rebind\.example\) is not a public address: loopback/],
    ['metadata.example', /^169\.254\.169\.254 \(resolved from metadata\.example\) .*link-local/],
    ['mixed.example', /^10\.1\.2\.3 \(resolved from mixed\.example\) .*private/],
    ['mapped.example', /^::ffff:192\.168\.1\.1 \(resolved from mapped\.example\) .*IPv4-mapped/],
  ];
  for (const [host, logged] of cases) {
    const err = await refusal(`https://${host}/`);
    assert.equal(
      err.message,
      `${host} resolves to a non-public address; non-public targets are allowed only with --allow-private-targets (development only)`,
    );
    assert.match(err.logDetail ?? '', logged, host);
    assert.doesNotMatch(
      JSON.stringify(err.toJSON()),
      /\d+\.\d+\.\d+\.\d+|::|loopback|RFC 1918|link-local|IPv4-mapped/,
      host,
    );
  }
  // A literal address is the caller's own input: the message says why, and there is nothing to hide.
  const literal = await refusal('https://10.1.2.3/');
  assert.match(literal.message, /^10\.1\.2\.3 is not a public address: private \(RFC 1918/);
  assert.equal(literal.logDetail, undefined);
});

test('allowHttp and allowPrivateTargets open exactly what they name', async () => {
  await assertTargetAllowed('http://public.example/', { ...strict, allowHttp: true });
  await assertTargetAllowed('https://rebind.example/', { ...strict, allowPrivateTargets: true });
  await assertTargetAllowed('https://127.0.0.1:8443/', { ...strict, allowPrivateTargets: true });
  assert.equal(
    (await refusal('http://rebind.example/', { ...strict, allowHttp: true })).code,
    'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS',
  );
  assert.equal(
    (await refusal('http://rebind.example/', { ...strict, allowPrivateTargets: true })).code,
    'HW_ENDPOINT_URL_HTTP_NOT_ALLOWED',
  );
});

test('any URL and any resolver answer: allowed, or refused with a DeliveryError — nothing else', async () => {
  const answer = fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })), { maxLength: 3 });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.webUrl({ validSchemes: ['https', 'http', 'ftp'] }), fc.string({ maxLength: 60 })),
      answer,
      fc.boolean(),
      fc.boolean(),
      async (url, addresses, allowPrivateTargets, allowHttp) => {
        const lookup: LookupFn = async () => addresses.map((address) => ({ address, family: 4 }));
        try {
          await assertTargetAllowed(url, { allowPrivateTargets, allowHttp, lookup });
        } catch (err) {
          assert.ok(err instanceof DeliveryError, String(err));
          assert.match(err.code, /^HW_ENDPOINT_URL_/);
        }
      },
    ),
    { numRuns: 300 },
  );
});
