import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { needTools, startNginx, tempDir } from '../src/index.ts';

const dir = tempDir();
after(dir.cleanup);

test('startNginx runs a real nginx on a loopback port and stops it', { skip: needTools('nginx') }, async () => {
  const nginx = await startNginx(dir.path, (port) => `listen 127.0.0.1:${port}; location / { return 200 "hello"; }`);
  try {
    const res = await fetch(`http://127.0.0.1:${nginx.port}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello');
  } finally {
    await nginx.stop();
  }
  assert.notEqual(nginx.child.exitCode ?? nginx.child.signalCode, null);
});
