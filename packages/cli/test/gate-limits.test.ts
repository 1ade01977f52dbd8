/**
 * What a sender the gate refuses, or a slow or greedy one, can make it hold: checks that need no body
 * run before the body is read, bodies being read share one byte budget, a body has a deadline, and a
 * client a number of connections. Real sockets on loopback; each wait is for an event (the time-outs
 * only turn a gate that would wait forever into a failure).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { type ClientRequest, createServer, type IncomingMessage, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHierarchy } from '@hookwarden/pki';
import { listen, post, tempDir } from '@hookwarden/testkit';
import { createVerifier, IpSet, type VerifyPolicy } from '@hookwarden/verify';
import { generateSecret, sign } from '@hookwarden/verify/signature';
import { createGate, type Gate, type GateOptions } from '../src/gate/server.ts';
import { type Material, makeMaterial } from './helpers/material.ts';

const SECRET = generateSecret();
const NOW = 1_800_000_000_000;
const dir = tempDir();
let upstreamPort = 0;
let m: Material;
const upstream = createServer(async (req, res) => {
  let bytes = 0;
  for await (const c of req) bytes += (c as Buffer).length;
  res.end(`got ${bytes}`);
});

before(async () => {
  upstreamPort = await listen(upstream);
  m = await makeMaterial(dir.path);
});
after(() => {
  upstream.close();
  dir.cleanup();
});

function signed(body: string, msgId: string): Record<string, string> {
  const timestamp = NOW / 1000;
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign({ msgId, timestamp, body, secrets: [SECRET] }),
  };
}

const logs: Record<string, unknown>[] = [];

async function gateWith(policy: VerifyPolicy, extra: Partial<GateOptions> = {}): Promise<{ gate: Gate; port: number }> {
  const gate = createGate({
    verifier: createVerifier({ now: () => NOW, ...policy }),
    upstream: `http://127.0.0.1:${upstreamPort}`,
    maxBodyBytes: 1024 * 1024,
    log: (e) => logs.push(e),
    ...extra,
  });
  return { gate, port: await listen(gate.server) };
}

interface Answer {
  status: number;
  body: string;
  /** Whether a 100 Continue came first. */
  continued: boolean;
}

/** Resolves with the final answer; `req` is returned at once so the test can write when it chooses. */
function open(
  port: number,
  headers: Record<string, string | number>,
  tls?: { ca: string; cert?: string; key?: string; ciphers?: string },
): { req: ClientRequest; answer: Promise<Answer>; continued: Promise<void> } {
  const options = { host: '127.0.0.1', port, method: 'POST', path: '/hooks', headers, agent: false as const };
  let continued = false;
  const req = tls ? httpsRequest({ ...options, servername: 'localhost', ...tls }) : request(options);
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, continued }));
    });
    req.on('error', reject);
  });
  const gotContinue = once(req, 'continue').then(() => {
    continued = true;
  });
  gotContinue.catch(() => {});
  req.flushHeaders();
  return { req, answer, continued: gotContinue };
}

const codeOf = (a: Answer) => (JSON.parse(a.body) as { code: string }).code;

describe('checks that need no body run before it is read', () => {
  test('a sender outside the allowlist is refused on its headers alone', { timeout: 20_000 }, async () => {
    const { gate, port } = await gateWith(
      { ipAllowlist: ['10.0.0.0/8'], signature: { secrets: [SECRET] } },
      { bodyTimeoutMs: 60_000 },
    );
    try {
      // 1 MiB declared, not one byte sent: the refusal cannot have waited for it
      const { answer } = open(port, { ...signed('x', 'm1'), 'content-length': 1024 * 1024 });
      const a = await answer;
      assert.equal(a.status, 403, a.body);
      assert.equal(codeOf(a), 'HW_IP_DENIED');
    } finally {
      await gate.close();
    }
  });

  test('with TLS at the gate, a client without a certificate is refused on its headers alone', {
    timeout: 20_000,
  }, async () => {
    const { gate, port } = await gateWith(
      {
        https: true,
        clientCertificate: { source: 'socket', caBundlePem: readFileSync(m.files.ca, 'utf8') },
        signature: { secrets: [SECRET] },
      },
      {
        bodyTimeoutMs: 60_000,
        tls: {
          certPem: readFileSync(m.files.cert, 'utf8'),
          keyPem: readFileSync(m.files.key, 'utf8'),
          clientCaPem: readFileSync(m.files.ca, 'utf8'),
        },
      },
    );
    try {
      const { answer } = open(port, { ...signed('x', 'm2'), 'content-length': 1024 * 1024 }, { ca: m.serverCaPem });
      const a = await answer;
      assert.equal(a.status, 401, a.body);
      assert.equal(codeOf(a), 'HW_CERT_MISSING');
    } finally {
      await gate.close();
    }
  });

  test('Expect: 100-continue is answered only once those checks passed', { timeout: 20_000 }, async () => {
    const { gate, port } = await gateWith({ ipAllowlist: ['127.0.0.1/32'], signature: { secrets: [SECRET] } });
    const denied = await gateWith({ ipAllowlist: ['10.0.0.0/8'], signature: { secrets: [SECRET] } });
    try {
      const body = '{"n":1}';
      const ok = open(port, { ...signed(body, 'm3'), 'content-length': body.length, expect: '100-continue' });
      await ok.continued;
      ok.req.end(body);
      const a = await ok.answer;
      assert.deepEqual([a.status, a.continued, a.body], [200, true, `got ${body.length}`]);
      const no = open(denied.port, { ...signed(body, 'm4'), 'content-length': body.length, expect: '100-continue' });
      const b = await no.answer;
      assert.deepEqual([b.status, b.continued], [403, false]);
    } finally {
      await gate.close();
      await denied.gate.close();
    }
  });
});

describe('bodies share one byte budget', () => {
  test('a body the budget cannot hold is 503 HW_GATE_BUSY, declared or chunked, until others finish', {
    timeout: 20_000,
  }, async () => {
    const { gate, port } = await gateWith(
      { signature: { secrets: [SECRET] } },
      { maxBodyBytes: 2000, maxBufferedBytes: 3000 },
    );
    try {
      const bodyA = 'a'.repeat(2000);
      const a = open(port, { ...signed(bodyA, 'ma'), 'content-length': 2000, expect: '100-continue' });
      await a.continued; // the gate now holds 2000 of 3000 for it
      const bodyB = 'b'.repeat(1500);
      const b = open(port, { ...signed(bodyB, 'mb'), 'content-length': 1500, expect: '100-continue' });
      const refusedB = await b.answer;
      assert.deepEqual([refusedB.status, codeOf(refusedB), refusedB.continued], [503, 'HW_GATE_BUSY', false]);
      // chunked: nothing is declared, so the bytes count as they come
      const c = open(port, { ...signed(bodyB, 'mc'), 'transfer-encoding': 'chunked', expect: '100-continue' });
      await c.continued;
      c.req.end(bodyB);
      const refusedC = await c.answer;
      assert.deepEqual([refusedC.status, codeOf(refusedC)], [503, 'HW_GATE_BUSY']);
      a.req.end(bodyA);
      assert.equal((await a.answer).status, 200);
      const again = open(port, { ...signed(bodyB, 'mb'), 'content-length': 1500, expect: '100-continue' });
      await again.continued;
      again.req.end(bodyB);
      assert.equal((await again.answer).status, 200);
    } finally {
      await gate.close();
    }
  });
});

describe('a body has a deadline', () => {
  test('a body that stops arriving is 408 HW_BODY_TIMEOUT and the connection is closed', {
    timeout: 20_000,
  }, async () => {
    const { gate, port } = await gateWith({ signature: { secrets: [SECRET] } }, { bodyTimeoutMs: 100 });
    try {
      const before = logs.length;
      const { req, answer } = open(port, { ...signed('x'.repeat(100), 'mt'), 'content-length': 100 });
      req.write('x'.repeat(10));
      const a = await answer;
      assert.deepEqual([a.status, codeOf(a)], [408, 'HW_BODY_TIMEOUT']);
      const socket = req.socket!;
      if (!socket.destroyed) await once(socket, 'close');
      assert.ok(logs.slice(before).some((e) => e.code === 'HW_BODY_TIMEOUT' && e.decision === 'refused'));
    } finally {
      await gate.close();
    }
  });
});

describe('connections per client', () => {
  /** Opens a raw connection and resolves once the gate has accepted it. */
  async function connection(gate: Gate, port: number): Promise<{ client: Socket; server: Socket }> {
    const accepted = once(gate.server, 'connection') as Promise<[Socket]>;
    const client = connect(port, '127.0.0.1');
    const [server] = await accepted;
    return { client, server };
  }

  test('beyond the cap a connection is closed at once; a slot freed is usable again', { timeout: 20_000 }, async () => {
    const { gate, port } = await gateWith({ ipAllowlist: ['127.0.0.1/32'] }, { maxClientConnections: 2 });
    try {
      const before = logs.length;
      const first = await connection(gate, port);
      await connection(gate, port);
      const third = await connection(gate, port);
      await once(third.client, 'close');
      assert.equal(third.client.bytesRead, 0);
      assert.ok(logs.slice(before).some((e) => e.code === 'HW_GATE_CLIENT_LIMIT'));
      first.client.destroy();
      await once(first.server, 'close');
      const reply = await post(port, { body: '{}' });
      assert.equal(reply.status, 200, JSON.stringify(reply));
    } finally {
      gate.server.closeAllConnections();
      await gate.close();
    }
  });

  test('trusted proxies carry many clients and are not capped', { timeout: 20_000 }, async () => {
    const { gate, port } = await gateWith(
      { ipAllowlist: ['127.0.0.1/32'] },
      { maxClientConnections: 1, proxies: IpSet.parse(['127.0.0.1/32'], (_, p) => new Error(p)) },
    );
    try {
      await connection(gate, port);
      await connection(gate, port);
      const reply = await post(port, { body: '{}' });
      assert.equal(reply.status, 200, JSON.stringify(reply));
    } finally {
      gate.server.closeAllConnections();
      await gate.close();
    }
  });
});

test("with TLS at the gate, the TLS stack's verdict counts: a SHA-1 signed certificate from the CA is refused", {
  timeout: 20_000,
}, async () => {
  // the platform's CA issues a leaf signed with SHA-1: the chain builds, OpenSSL refuses the signature
  const h = await createHierarchy({ subject: 'CN=hooks.platform.test', keyType: 'ec-p256' });
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const interCert = file('inter.pem', h.intermediate.certPem);
  const interKey = file('inter.key', h.intermediate.keyPem);
  const key = join(dir.path, 'weak.key');
  const csr = join(dir.path, 'weak.csr');
  const cert = join(dir.path, 'weak.pem');
  const ext = file(
    'weak.ext',
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  for (const args of [
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key],
    ['req', '-new', '-key', key, '-subj', '/CN=hooks.platform.test', '-out', csr],
    ['x509', '-req', '-in', csr, '-CA', interCert, '-CAkey', interKey, '-sha1', '-days', '2', '-set_serial', '7'],
  ]) {
    const run = spawnSync('openssl', args[0] === 'x509' ? [...args, '-extfile', ext, '-out', cert] : args);
    assert.equal(run.status, 0, String(run.stderr));
  }
  const caBundlePem = h.intermediate.certPem + h.root.certPem;
  const gate = createGate({
    verifier: createVerifier({
      https: true,
      clientCertificate: { source: 'socket', caBundlePem, subject: 'CN=hooks.platform.test' },
    }),
    upstream: `http://127.0.0.1:${upstreamPort}`,
    maxBodyBytes: 4096,
    log: () => {},
    tls: {
      certPem: readFileSync(m.files.cert, 'utf8'),
      keyPem: readFileSync(m.files.key, 'utf8'),
      clientCaPem: caBundlePem,
    },
  });
  const port = await listen(gate.server);
  try {
    // a client that lowers its own security level to present it
    const client = (c: { cert: string; key: string }) => {
      const o = open(port, { 'content-length': 2 }, { ca: m.serverCaPem, ...c, ciphers: 'DEFAULT@SECLEVEL=0' });
      o.req.end('{}');
      return o.answer;
    };
    const weak = await client({
      cert: readFileSync(cert, 'utf8') + h.intermediate.certPem,
      key: readFileSync(key, 'utf8'),
    });
    assert.deepEqual([weak.status, codeOf(weak)], [403, 'HW_CERT_UNTRUSTED'], weak.body);
    const good = await client({ cert: h.leaf.certPem + h.intermediate.certPem, key: h.leaf.keyPem });
    assert.equal(good.status, 200, good.body);
  } finally {
    await gate.close();
  }
});
