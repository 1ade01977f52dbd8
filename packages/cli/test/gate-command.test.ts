import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { fingerprints } from '@hookwarden/pki';
import { listen, post, type Reply, tempDir } from '@hookwarden/testkit';
import { generateSecret, sign } from '@hookwarden/verify/signature';
import { BIN, type RunningGate, startGate } from './helpers/gate.ts';
import { type Material, makeMaterial, PLATFORM_DN } from './helpers/material.ts';

const dir = tempDir();

function collect(resolve: (r: Reply) => void) {
  return (res: import('node:http').IncomingMessage) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      body += c;
    });
    res.on('end', () => resolve({ status: res.statusCode, body }));
  };
}

function tlsCall(port: number, o: { ca: string; cert?: string; key?: string; body?: Buffer[] }): Promise<Reply> {
  return post(port, { tls: { ca: o.ca, cert: o.cert, key: o.key }, body: o.body ?? '{}' });
}

function plainCall(
  port: number,
  o: { headers: Record<string, string>; body: string; localAddress: string },
): Promise<Reply> {
  return post(port, o);
}

const seen: { headers: IncomingHttpHeaders; bytes: number }[] = [];
const upstream = createServer(async (req, res) => {
  let bytes = 0;
  for await (const c of req) bytes += (c as Buffer).length;
  seen.push({ headers: req.headers, bytes });
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`upstream got ${bytes}`);
});
let upstreamUrl = '';
let m: Material;

before(async () => {
  upstreamUrl = `http://127.0.0.1:${await listen(upstream)}`;
  m = await makeMaterial(dir.path);
});
after(() => {
  upstream.close();
  dir.cleanup();
});

describe('hookwarden gate terminating TLS and requesting client certificates', () => {
  let gate: RunningGate;
  before(async () => {
    gate = await startGate([
      '--upstream',
      upstreamUrl,
      '--tls-cert',
      m.files.cert,
      '--tls-key',
      m.files.key,
      '--client-ca',
      m.files.ca,
      '--require-subject',
      PLATFORM_DN,
    ]);
  });
  after(async () => {
    await gate.stop();
  });

  test('started without --secret, it warns at start that no signature is checked', () => {
    const warning = gate.logs.findIndex((e) => e.msg === 'no signature check');
    assert.ok(warning >= 0, JSON.stringify(gate.logs));
    assert.equal(gate.logs[warning]?.level, 'warn');
    assert.match(String(gate.logs[warning]?.detail), /--secret or --public-key/);
    assert.ok(warning < gate.logs.findIndex((e) => e.msg === 'listening'));
  });

  test("the platform's certificate passes; the upstream gets the verified identity", async () => {
    const reply = await tlsCall(gate.port, { ca: m.serverCaPem, cert: m.platform.chain, key: m.platform.key });
    assert.equal(reply.status, 200, JSON.stringify(reply));
    const facts = JSON.parse(String(seen.at(-1)!.headers['hookwarden-verified']));
    assert.equal(facts.identity.source, 'socket');
    assert.equal(facts.identity.fingerprintSha256, fingerprints(m.platform.certPem).sha256Hex);
    assert.ok(facts.checks.includes('client-certificate') && facts.checks.includes('https'));
  });

  for (const [name, who, status, code] of [
    ['no certificate', undefined, 401, 'HW_CERT_MISSING'],
    ['another CA', 'other', 403, 'HW_CERT_UNTRUSTED'],
    ['the right CA, the wrong DN', 'wrong', 403, 'HW_SUBJECT_MISMATCH'],
  ] as const) {
    test(`${name} is answered ${status} ${code}, logged, and never forwarded`, async () => {
      const before = seen.length;
      const client = who === undefined ? {} : { cert: m[who].chain, key: m[who].key };
      const reply = await tlsCall(gate.port, { ca: m.serverCaPem, ...client });
      assert.equal(reply.status, status, JSON.stringify(reply));
      assert.equal(JSON.parse(reply.body!).code, code);
      assert.equal(seen.length, before);
      await gate.logged((e) => e.decision === 'refused' && e.code === code);
    });
  }

  test('requests on one kept-alive TLS connection are each verified and forwarded', async () => {
    const agent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 1,
      ca: m.serverCaPem,
      cert: m.platform.chain,
      key: m.platform.key,
    });
    try {
      const before = seen.length;
      const reused: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const reply = await new Promise<Reply>((resolve, reject) => {
          const req = httpsRequest(
            { host: '127.0.0.1', port: gate.port, servername: 'localhost', method: 'POST', path: '/hooks', agent },
            collect(resolve),
          );
          req.on('error', reject);
          reused.push(req.reusedSocket);
          req.end('{}');
        });
        assert.equal(reply.status, 200, JSON.stringify(reply));
      }
      assert.deepEqual(reused, [false, true, true]);
      assert.equal(seen.length, before + 3);
      for (const s of seen.slice(before)) {
        const facts = JSON.parse(String(s.headers['hookwarden-verified']));
        assert.equal(facts.identity.fingerprintSha256, fingerprints(m.platform.certPem).sha256Hex);
      }
    } finally {
      agent.destroy();
    }
  });

  test('a client cannot renegotiate TLS 1.2 to present another certificate on the same connection', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: gate.port,
      servername: 'localhost',
      ca: m.serverCaPem,
      cert: m.platform.chain,
      key: m.platform.key,
      maxVersion: 'TLSv1.2',
    });
    await once(socket, 'secureConnect');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const errors: string[] = [];
    socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
    const outcome = await new Promise<string>((resolve) => {
      const started = socket.renegotiate({ rejectUnauthorized: false }, (err) =>
        resolve(err ? 'refused' : 'renegotiated'),
      );
      if (!started) resolve('refused');
      void closed.then(() => resolve('closed'));
      // The renegotiation handshake runs with the next bytes on the connection.
      socket.write('POST /hooks HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}');
    });
    assert.notEqual(outcome, 'renegotiated', errors.join(', '));
    socket.destroy();
    await closed;
  });

  test('without a signature to check, a body larger than the buffer cap streams through intact', async () => {
    const chunks = Array.from({ length: 24 }, (_, i) => Buffer.alloc(128 * 1024, i));
    const reply = await tlsCall(gate.port, {
      ca: m.serverCaPem,
      cert: m.platform.chain,
      key: m.platform.key,
      body: chunks,
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, `upstream got ${24 * 128 * 1024}`);
  });

  test('SIGTERM stops it cleanly, and no log line carries key material', async () => {
    assert.equal(await gate.stop(), 0);
    assert.ok(gate.logs.some((e) => e.msg === 'stopped'));
    assert.ok(!JSON.stringify(gate.logs).includes('PRIVATE KEY'));
  });
});

describe('hookwarden gate behind a proxy, with a signature', () => {
  const secret = generateSecret();
  let gate: RunningGate;
  before(async () => {
    gate = await startGate([
      '--upstream',
      upstreamUrl,
      '--trust-proxy',
      '127.0.0.2/32',
      '--proxy-headers',
      'nginx',
      '--client-ca',
      m.files.ca,
      '--require-subject',
      PLATFORM_DN,
      '--secret',
      secret,
    ]);
  });
  after(async () => {
    await gate.stop();
  });

  function nginxHeaders(body: string, msgId: string): Record<string, string> {
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      'x-ssl-client-verify': 'SUCCESS',
      'x-ssl-client-subject-dn': PLATFORM_DN,
      'x-ssl-client-fingerprint': fingerprints(m.platform.certPem).sha1Hex,
      'x-ssl-client-cert': encodeURIComponent(m.platform.certPem),
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'webhook-id': msgId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign({ msgId, timestamp, body, secrets: [secret] }),
    };
  }

  test('with --secret there is no warning', () => {
    assert.ok(!gate.logs.some((e) => e.msg === 'no signature check'));
  });

  test("the proxy's headers from the proxy's address, with a valid signature, pass", async () => {
    const body = '{"type":"ping"}';
    const reply = await plainCall(gate.port, { headers: nginxHeaders(body, 'msg_a'), body, localAddress: '127.0.0.2' });
    assert.equal(reply.status, 200, JSON.stringify(reply));
    const facts = JSON.parse(String(seen.at(-1)!.headers['hookwarden-verified']));
    assert.equal(facts.identity.source, 'nginx');
    assert.equal(facts.clientIp, '203.0.113.9');
    assert.equal(facts.webhookId, 'msg_a');
  });

  test('a proxy header sent twice is refused as such, never joined into one value', async () => {
    const body = '{"type":"ping"}';
    // Two lines of one header (as when a proxy appends instead of overwriting a client's copy).
    const headers = { ...nginxHeaders(body, 'msg_twice'), 'x-ssl-client-subject-dn': [PLATFORM_DN, PLATFORM_DN] };
    const reply = await plainCall(gate.port, {
      headers: headers as unknown as Record<string, string>,
      body,
      localAddress: '127.0.0.2',
    });
    assert.equal(JSON.parse(reply.body!).code, 'HW_PROXY_HEADER_INVALID', JSON.stringify(reply));
  });

  test('the same headers from any other address are refused: HW_PROXY_UNTRUSTED', async () => {
    const body = '{"type":"ping"}';
    const reply = await plainCall(gate.port, { headers: nginxHeaders(body, 'msg_b'), body, localAddress: '127.0.0.1' });
    assert.equal(reply.status, 403);
    assert.equal(JSON.parse(reply.body!).code, 'HW_PROXY_UNTRUSTED');
  });

  test('a replayed webhook-id is refused, and a tampered body too', async () => {
    const body = '{"type":"again"}';
    const headers = nginxHeaders(body, 'msg_c');
    assert.equal((await plainCall(gate.port, { headers, body, localAddress: '127.0.0.2' })).status, 200);
    const replay = await plainCall(gate.port, { headers, body, localAddress: '127.0.0.2' });
    assert.equal(JSON.parse(replay.body!).code, 'HW_REPLAYED');
    const tampered = await plainCall(gate.port, {
      headers: nginxHeaders(body, 'msg_d'),
      body: '{"x":1}',
      localAddress: '127.0.0.2',
    });
    assert.equal(JSON.parse(tampered.body!).code, 'HW_SIGNATURE_INVALID');
    assert.ok(!JSON.stringify(gate.logs).includes(secret.slice(6)), 'the secret is never logged');
  });
});

describe('hookwarden gate with --replay-dir', () => {
  test('a delivery accepted by one gate is refused by a second on the host, and after a restart', async () => {
    const secret = generateSecret();
    const args = ['--upstream', upstreamUrl, '--secret', secret, '--replay-dir', join(dir.path, 'replay')];
    const body = '{"type":"captured"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'msg_captured',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign({ msgId: 'msg_captured', timestamp, body, secrets: [secret] }),
    };
    const call = (port: number) => post(port, { headers, body });
    let first = await startGate(args);
    const second = await startGate(args);
    try {
      assert.equal((await call(first.port)).status, 200);
      const elsewhere = await call(second.port);
      assert.equal(elsewhere.status, 409, JSON.stringify(elsewhere));
      assert.equal(JSON.parse(elsewhere.body!).code, 'HW_REPLAYED');
      await first.stop();
      first = await startGate(args);
      const restarted = await call(first.port);
      assert.equal(JSON.parse(restarted.body!).code, 'HW_REPLAYED', JSON.stringify(restarted));
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});

describe('hookwarden gate following the trust document', () => {
  let gate: RunningGate;
  let fetches = 0;
  const doc = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        version: 1,
        caBundlePem: readFileSync(m.files.ca, 'utf8'),
        certificates: { current: { fingerprints: { sha256Hex: fingerprints(m.platform.certPem).sha256Hex } } },
        egressCidrs: ['203.0.113.0/24'],
        signingPublicKeys: [],
      }),
    );
  });
  before(async () => {
    const docPort = await listen(doc);
    gate = await startGate([
      '--upstream',
      upstreamUrl,
      '--trust-proxy',
      '127.0.0.2/32',
      '--proxy-headers',
      'nginx',
      '--trust-document',
      `http://127.0.0.1:${docPort}/api/v1/trust`,
    ]);
  });
  after(async () => {
    await gate.stop();
    doc.close();
  });

  function forwarded(clientIp: string): Record<string, string> {
    return {
      'x-ssl-client-verify': 'SUCCESS',
      'x-ssl-client-subject-dn': PLATFORM_DN,
      'x-ssl-client-cert': encodeURIComponent(m.platform.certPem),
      'x-forwarded-for': clientIp,
    };
  }

  test("the document's pin, CA bundle and egress range admit the platform", async () => {
    assert.ok(fetches >= 1, 'fetched at start');
    const reply = await plainCall(gate.port, {
      headers: forwarded('203.0.113.7'),
      body: '{}',
      localAddress: '127.0.0.2',
    });
    assert.equal(reply.status, 200, JSON.stringify(reply));
    const facts = JSON.parse(String(seen.at(-1)!.headers['hookwarden-verified']));
    assert.deepEqual([...facts.checks].sort(), ['client-certificate', 'ip-allowlist']);
  });

  test('a source outside the egress range, or a certificate not pinned, is refused', async () => {
    const outside = await plainCall(gate.port, {
      headers: forwarded('198.51.100.1'),
      body: '{}',
      localAddress: '127.0.0.2',
    });
    assert.equal(JSON.parse(outside.body!).code, 'HW_IP_DENIED');
    const unpinned = await plainCall(gate.port, {
      headers: {
        ...forwarded('203.0.113.7'),
        'x-ssl-client-cert': encodeURIComponent(m.wrong.chain.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!),
      },
      body: '{}',
      localAddress: '127.0.0.2',
    });
    assert.equal(unpinned.status, 403, unpinned.body);
  });
});

test('--config: a 0600 JSON file gives the policy as createVerifier takes it', async () => {
  const secret = generateSecret();
  const path = join(dir.path, 'gate.json');
  writeFileSync(
    path,
    JSON.stringify({ upstream: upstreamUrl, policy: { signature: { secrets: [secret] }, replay: true } }),
    {
      mode: 0o600,
    },
  );
  const gate = await startGate(['--config', path]);
  try {
    const body = '{"type":"configured"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'msg_cfg',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign({ msgId: 'msg_cfg', timestamp, body, secrets: [secret] }),
    };
    const ok = await plainCall(gate.port, { headers, body, localAddress: '127.0.0.1' });
    assert.equal(ok.status, 200, JSON.stringify(ok));
    assert.equal(JSON.parse(String(seen.at(-1)!.headers['hookwarden-verified'])).webhookId, 'msg_cfg');
    const replayed = await plainCall(gate.port, { headers, body, localAddress: '127.0.0.1' });
    assert.equal(JSON.parse(replayed.body!).code, 'HW_REPLAYED');
  } finally {
    assert.equal(await gate.stop(), 0);
  }
});

test('--config terminating TLS with a policy that names no certificate check still checks it against tls.clientCa', async () => {
  const path = join(dir.path, 'gate-tls.json');
  writeFileSync(
    path,
    JSON.stringify({
      upstream: upstreamUrl,
      tls: { cert: m.files.cert, key: m.files.key, clientCa: m.files.ca },
      policy: { https: true },
    }),
    { mode: 0o600 },
  );
  const gate = await startGate(['--config', path]);
  try {
    const before = seen.length;
    const none = await tlsCall(gate.port, { ca: m.serverCaPem });
    assert.equal(none.status, 401, JSON.stringify(none));
    assert.equal(JSON.parse(none.body!).code, 'HW_CERT_MISSING');
    const other = await tlsCall(gate.port, { ca: m.serverCaPem, cert: m.other.chain, key: m.other.key });
    assert.equal(other.status, 403, JSON.stringify(other));
    assert.equal(JSON.parse(other.body!).code, 'HW_CERT_UNTRUSTED');
    assert.equal(seen.length, before, 'nothing unauthenticated was forwarded');
    const ok = await tlsCall(gate.port, { ca: m.serverCaPem, cert: m.platform.chain, key: m.platform.key });
    assert.equal(ok.status, 200, JSON.stringify(ok));
    const facts = JSON.parse(String(seen.at(-1)!.headers['hookwarden-verified']));
    assert.deepEqual([...facts.checks].sort(), ['client-certificate', 'https']);
  } finally {
    assert.equal(await gate.stop(), 0);
  }
});

test('an impossible policy is refused at start, naming the field (exit 1)', () => {
  const r = spawnSync(
    process.execPath,
    [BIN, 'gate', '--upstream', 'http://127.0.0.1:9', '--proxy-headers', 'nginx', '--pin', 'ab'.repeat(32)],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /HW_POLICY_INVALID: trustedProxies/);
});

test('--help exits 0; an unknown flag prints usage and exits 2', () => {
  const help = spawnSync(process.execPath, [BIN, 'gate', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--trust-proxy CIDR/);
  const bad = spawnSync(process.execPath, [BIN, 'gate', '--nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Usage: hookwarden gate/);
});
