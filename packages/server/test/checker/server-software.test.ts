import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { recognizeServer } from '../../src/checker/server-software.ts';

test('server software is recognised from its headers and error pages', () => {
  const cases: [string, string | undefined][] = [
    ['HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\n\r\n', 'nginx'],
    ['HTTP/1.1 400 Bad Request\r\n\r\n<hr><center>nginx</center>', 'nginx'],
    ['HTTP/1.1 200 OK\r\nServer: Caddy\r\n\r\n', 'caddy'],
    [
      'HTTP/1.1 503 Service Unavailable\r\n\r\n<h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n',
      'haproxy',
    ],
    ['HTTP/1.1 404 Not Found\r\nX-Powered-By: Express\r\n\r\nCannot GET /', 'node'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', undefined],
    ['HTTP/1.1 200 OK\r\nServer: Apache\r\n\r\n', undefined],
  ];
  for (const [text, software] of cases) assert.equal(recognizeServer([text])?.software, software, text);
  assert.deepEqual(recognizeServer([undefined, 'HTTP/1.1 200 OK\r\nserver: nginx\r\n\r\n']), {
    software: 'nginx',
    evidence: 'server: nginx',
  });
});

test('any answer gives a result or nothing, its evidence one short printable line', () => {
  fc.assert(
    fc.property(fc.array(fc.option(fc.string({ unit: 'binary' }), { nil: undefined })), (texts) => {
      const r = recognizeServer(texts.map((t) => (t === undefined ? t : `HTTP/1.1 200 OK\r\nServer: nginx${t}\r\n`)));
      if (r !== undefined) assert.match(r.evidence, /^[\x20-\x7e]{0,80}$/);
    }),
  );
});
