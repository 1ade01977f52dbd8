import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, test } from 'node:test';
import { listen, needTools, startCaddy, startHaproxy, tempDir } from '../src/index.ts';

const dir = tempDir();
const app = createServer((_req, res) => res.end('from app'));
let appPort = 0;
after(() => {
  app.close();
  dir.cleanup();
});

async function appUp(): Promise<number> {
  if (appPort === 0) appPort = await listen(app);
  return appPort;
}

test('startHaproxy runs a real HAProxy on a loopback port in front of an app', {
  skip: needTools('haproxy'),
}, async () => {
  const upstream = await appUp();
  const haproxy = await startHaproxy(
    dir.path,
    (port) => `defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server app 127.0.0.1:${upstream}
`,
  );
  try {
    const res = await fetch(`http://127.0.0.1:${haproxy.port}/`);
    assert.equal(await res.text(), 'from app');
  } finally {
    await haproxy.stop();
  }
});

test('startCaddy runs a real, isolated Caddy on a loopback port', { skip: needTools('caddy') }, async () => {
  const upstream = await appUp();
  const caddy = await startCaddy(
    dir.path,
    (port) => `http://127.0.0.1:${port} {\n  reverse_proxy 127.0.0.1:${upstream}\n}\n`,
  );
  try {
    const res = await fetch(`http://127.0.0.1:${caddy.port}/`);
    assert.equal(await res.text(), 'from app');
  } finally {
    await caddy.stop();
  }
});
