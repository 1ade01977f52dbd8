import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { CONNECTION_HEADERS } from '../../src/delivery/headers.ts';
import { assertTargetAllowed, type LookupFn } from '../../src/delivery/ssrf.ts';
import { makeTestPki, type TestPki } from '../delivery/certs.ts';
import { type Harness, startApi } from './harness.ts';

// What the API accepts on an endpoint must be what the dispatcher can deliver with: input that
// would fail every attempt is refused here, with the field at fault.

let h: Harness;
let pki: TestPki;
let appId: string;

before(async () => {
  [h, pki] = await Promise.all([startApi(), makeTestPki()]);
  appId = (await h.request('POST', '/api/v1/app', { name: 'input' })).body.id;
});
after(() => h.close());

async function newEndpoint(extra: object = {}): Promise<string> {
  const res = await h.request('POST', `/api/v1/app/${appId}/endpoint`, { url: 'https://r.example/h', ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

type Refusal = { code: string; detail: { loc: string[]; msg: string }[] };

function assertRefused(res: { status: number; body: Refusal }, loc: string[], msg?: RegExp): void {
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.equal(res.body.code, 'validation_error');
  assert.deepEqual(res.body.detail[0]?.loc, loc);
  if (msg) assert.match(res.body.detail[0]?.msg ?? '', msg);
}

/** A self-signed RSA-512 CA certificate: it parses, but OpenSSL refuses to present it ("ca key too small"). */
const WEAK_CA = `-----BEGIN CERTIFICATE-----
MIIBkTCCATugAwIBAgIUWRg5BeQ4LpCl3W/SxBPHEaZmNzcwDQYJKoZIhvcNAQEL
BQAwHDEaMBgGA1UEAwwRd2Vhay1pbnRlcm1lZGlhdGUwIBcNMjYxMjAyMTQ0NzM2
WhgPMjEyNjExMDgxNDQ3MzZaMBwxGjAYBgNVBAMMEXdlYWstaW50ZXJtZWRpYXRl
MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMIswrLTe6htxnejy/4Unn0ej43+Opgn
RuYaujxKISgHtZbakbZhg+0G+u6jCcS/RQ/wZhoTuLeXObcPDj9qFr8CAwEAAaNT
MFEwHQYDVR0OBBYEFMZmlrgXUGb9TIuDDws7P3UbBMuXMB8GA1UdIwQYMBaAFMZm
lrgXUGb9TIuDDws7P3UbBMuXMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQEL
BQADQQCHOOYiG6FVFxiZeb6J2zfFZy9OgWTxrpAngkqMsQqaYH0kAjrWzpN0Ct6T
ShGNhtthXPYp27+9iG0T3AmQ242b
-----END CERTIFICATE-----
`;

test('headers the delivery client sets itself are refused on endpoints, naming the header', async () => {
  const epId = await newEndpoint({ headers: { 'X-Tenant': 'a' } });
  const base = `/api/v1/app/${appId}/endpoint/${epId}`;
  const names = [...CONNECTION_HEADERS, 'Expect', 'TE', 'Upgrade', 'Keep-Alive', 'Trailer', 'PROXY-CONNECTION'];
  for (const name of names) {
    const loc = ['body', 'headers', name];
    const body = { headers: { [name]: 'x' } };
    assertRefused(
      await h.request('POST', `/api/v1/app/${appId}/endpoint`, { url: 'https://r.example/', ...body }),
      loc,
    );
    assertRefused(await h.request('PUT', `${base}/headers`, body), loc);
    assertRefused(await h.request('PATCH', `${base}/headers`, body), loc, /connection header/);
  }
  assert.deepEqual((await h.request('GET', `${base}/headers`)).body.headers, { 'X-Tenant': 'a' });
  // Headers of the tenant's own keep working, and one stored before it was refused can be removed.
  const ep = await h.store.getEndpoint(appId, epId);
  await h.store.updateEndpoint({ ...ep!, headers: { ...ep!.headers, Expect: '100-continue' } }, Date.now());
  const patched = await h.request('PATCH', `${base}/headers`, { headers: { 'X-Trace': 'on', Expect: null } });
  assert.equal(patched.status, 204);
  assert.deepEqual((await h.request('GET', `${base}/headers`)).body.headers, { 'X-Tenant': 'a', 'X-Trace': 'on' });
});

test('a chainPem that does not parse is refused on body.clientIdentity.chainPem, and nothing is stored', async () => {
  const { certPem, keyPem } = pki.client;
  const epId = await newEndpoint();
  const loc = ['body', 'clientIdentity', 'chainPem'];
  const corrupt = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  const cutShort = `${pki.client.chainPem}-----BEGIN CERTIFICATE-----\nMIIB\n`;
  const keyInstead = `${pki.client.chainPem}${keyPem}`;
  for (const [chainPem, msg] of [
    [corrupt, /does not parse/],
    [`${pki.client.chainPem}${corrupt}`, /certificate 3 does not parse/],
    [cutShort, /not a whole certificate/],
    [keyInstead, /not a whole certificate/],
    ['not a certificate at all', /no PEM certificate/],
  ] as const) {
    const clientIdentity = { certPem, keyPem, chainPem };
    const created = await h.request('POST', `/api/v1/app/${appId}/endpoint`, {
      url: 'https://r.example/',
      clientIdentity,
    });
    assertRefused(created, loc, msg);
    assertRefused(await h.request('PATCH', `/api/v1/app/${appId}/endpoint/${epId}`, { clientIdentity }), loc, msg);
  }
  assert.equal((await h.store.getEndpoint(appId, epId))?.clientCertPem, null);
});

test('a chain OpenSSL refuses to present is refused on chainPem, with its reason', async () => {
  const { certPem, keyPem } = pki.client;
  const res = await h.request('POST', `/api/v1/app/${appId}/endpoint`, {
    url: 'https://r.example/',
    clientIdentity: { certPem, keyPem, chainPem: WEAK_CA },
  });
  assertRefused(res, ['body', 'clientIdentity', 'chainPem'], /cannot be used for TLS: ca key too small/);
});

test('a whole chain is accepted and stored as one PEM the dispatcher can build a context from', async () => {
  const epId = await newEndpoint({ clientIdentity: pki.client });
  const stored = await h.store.getEndpoint(appId, epId);
  const blocks = stored?.clientCertPem?.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  assert.equal(blocks.length, 2, 'leaf then intermediate, the leaf given once');
  createSecureContext({ cert: stored!.clientCertPem!, key: stored!.clientKeyPem! });
});

/** The API as server.ts wires it (the SSRF guard on), with a stub resolver standing in for the internal DNS. */
function apiWithInternalDns() {
  const internal: Record<string, string> = { 'db.internal.corp': '10.20.30.40' };
  const lookup: LookupFn = async (host) => {
    const address = internal[host];
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return [{ address, family: 4 }];
  };
  return startApi(
    {
      checkEndpointUrl: (url, o) =>
        assertTargetAllowed(url, { allowPrivateTargets: false, allowHttp: o.allowHttp, lookup }),
    },
    { log: true },
  );
}

test("a host name's refusal does not tell the caller the private address it resolves to; the log does", async () => {
  const api = await apiWithInternalDns();
  try {
    const app = (await api.request('POST', '/api/v1/app', { name: 'tenant' })).body.id;
    const token = (await api.request('POST', `/api/v1/auth/app-portal-access/${app}`, {})).body.token;
    const byName = await api.request(
      'POST',
      `/api/v1/app/${app}/endpoint`,
      { url: 'https://db.internal.corp/' },
      token,
    );
    assert.equal(byName.status, 422);
    // Svix's 422 shape, naming the field; our code says which rule refused it.
    assert.equal(byName.body.code, 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS');
    assert.deepEqual(byName.body.detail[0].loc, ['body', 'url']);
    assert.match(byName.body.detail[0].msg, /^db\.internal\.corp resolves to a non-public address/);
    assert.doesNotMatch(JSON.stringify(byName.body), /10\.20\.30\.40|RFC 1918|private \(/);
    assert.match(api.logged(), /10\.20\.30\.40 \(resolved from db\.internal\.corp\) is not a public address/);
    // A literal address is the caller's own input: the answer may say why it is refused.
    const literal = await api.request('POST', `/api/v1/app/${app}/endpoint`, { url: 'https://10.20.30.40/' }, token);
    assert.equal(literal.status, 422);
    assert.match(literal.body.detail[0].msg, /^10\.20\.30\.40 is not a public address: private \(RFC 1918/);
  } finally {
    await api.close();
  }
});

test('a loopback endpoint is refused naming the flag that allows it, --allow-private-targets', async () => {
  const api = await apiWithInternalDns();
  try {
    const app = (await api.request('POST', '/api/v1/app', { name: 'dev' })).body.id;
    for (const url of ['https://localhost:8443/hooks', 'https://127.0.0.1:8443/hooks', 'https://[::1]:8443/hooks']) {
      const refused = await api.request('POST', `/api/v1/app/${app}/endpoint`, { url });
      assert.equal(refused.status, 422, url);
      assert.equal(refused.body.code, 'HW_ENDPOINT_URL_FORBIDDEN_ADDRESS');
      assert.match(refused.body.detail[0].msg, /allowed only with --allow-private-targets \(development only\)$/, url);
    }
  } finally {
    await api.close();
  }
});

test("headers about the body (Content-Encoding, Content-Type, ...) are the JSON body's own: refused", async () => {
  for (const name of ['Content-Encoding', 'content-type', 'Content-Language']) {
    assertRefused(
      await h.request('POST', `/api/v1/app/${appId}/endpoint`, {
        url: 'https://r.example/h',
        headers: { [name]: 'gzip' },
      }),
      ['body', 'headers', name],
      /reserved/,
    );
  }
});
