/**
 * Request framing an adversarial review tried against the gate, which held: each ambiguous shape is
 * refused before anything reaches the upstream. Raw bytes on a loopback socket, since Node's own
 * client will not write most of them.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { listen } from '@hookwarden/testkit';
import { createVerifier } from '@hookwarden/verify';
import { createGate, type Gate } from '../src/gate/server.ts';

let reached = 0;
const upstream = createServer((req, res) => {
  reached++;
  req.resume();
  res.end('ok');
});
let gate: Gate;
let port = 0;

before(async () => {
  gate = createGate({
    verifier: createVerifier({ ipAllowlist: ['127.0.0.1/32'] }),
    upstream: `http://127.0.0.1:${await listen(upstream)}`,
    maxBodyBytes: 4096,
    log: () => {},
  });
  port = await listen(gate.server);
});
after(async () => {
  await gate.close();
  upstream.close();
});

/** Writes `raw` and resolves with everything the gate answered once it closed the connection. */
function send(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      answer += c;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

const CASES: [string, string][] = [
  [
    'Content-Length with Transfer-Encoding',
    'POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  ['an obs-fold header line', 'POST /h HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n'],
  ['two different Content-Lengths', 'POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
  ['two equal Content-Lengths', 'POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab'],
  ['bare LF line ends', 'POST /h HTTP/1.1\nHost: x\nContent-Length: 0\n\n'],
  ['one bare LF among CRLFs', 'POST /h HTTP/1.1\r\nHost: x\nX-A: b\r\nContent-Length: 0\r\n\r\n'],
  [
    'a transfer coding other than chunked last',
    'POST /h HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
  ],
  ['an absolute-form target', 'POST http://other.example/h HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'],
];

test('each ambiguous request shape is answered 400 and never forwarded', async () => {
  for (const [name, raw] of CASES) {
    const before = reached;
    const answer = await send(raw);
    assert.match(answer, /^HTTP\/1\.1 400 /, name);
    assert.equal(reached, before, `${name} reached the upstream`);
  }
});

test('CONNECT is closed without an answer and never forwarded', async () => {
  const before = reached;
  assert.equal(await send('CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n'), '');
  assert.equal(reached, before);
});

test('the same request well framed is forwarded (the cases above fail on their framing alone)', async () => {
  const before = reached;
  const answer = await send('POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab');
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.equal(reached, before + 1);
});
