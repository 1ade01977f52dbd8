import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { startApi } from './harness.ts';

// docs/api.md lists every operation of the current Svix SDK with its state here: held to the SDK's
// own source (the requests it makes) and to the routes this server has.

const sdkApi = join(dirname(createRequire(import.meta.url).resolve('svix2/package.json')), 'src', 'api');
const doc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');

/** Every request the SDK makes: `METHOD /path`. */
function sdkRequests(): string[] {
  const out = new Set<string>();
  for (const file of readdirSync(sdkApi)) {
    const source = readFileSync(join(sdkApi, file), 'utf8');
    for (const m of source.matchAll(/new SvixRequest\(\s*HttpMethod\.(\w+),\s*"([^"]+)"/g)) out.add(`${m[1]} ${m[2]}`);
  }
  return [...out];
}

test('docs/api.md names every request of the current svix SDK, and those it calls implemented are routes here', async () => {
  const section = doc.slice(doc.indexOf('## Svix operations'), doc.indexOf('## Operations'));
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  const implemented = new Set<string>();
  const named: string[] = [];
  for (const row of rows) {
    const [, , request, state] = row.split('|').map((c) => c.trim());
    // One request (`METHOD /path`), or a group of operations not implemented (`/prefix…`).
    const one = /^`(\w+) ([^`]+)`$/.exec(request ?? '');
    const group = /^`([^`]+)…`$/.exec(request ?? '');
    assert.ok(one || group, row);
    if (group) named.push(group[1] as string);
    else if (state !== 'implemented' && one) named.push(one[2] as string);
    if (state === 'implemented' && one) implemented.add(`${one[1]} ${one[2]}`);
    else assert.match(state ?? '', /^not implemented: ./, row);
  }
  const h = await startApi();
  try {
    const served = new Set<string>();
    const openapi = (await h.request('GET', '/api/v1/openapi.json')).body as { paths: Record<string, object> };
    for (const [p, methods] of Object.entries(openapi.paths)) {
      for (const m of Object.keys(methods)) served.add(`${m.toUpperCase()} ${p.replace(/^\/api\/v1/, '')}`);
    }
    for (const request of sdkRequests()) {
      const [method, fullPath] = request.split(' ') as [string, string];
      const path = fullPath.replace(/^\/api\/v1/, '');
      const listed = implemented.has(`${method} ${path}`) || named.some((prefix) => path.startsWith(prefix));
      assert.ok(listed, `${request} is not in the table`);
      assert.equal(
        served.has(`${method} ${path}`),
        implemented.has(`${method} ${path}`),
        `${request}: the table and the routes disagree`,
      );
    }
  } finally {
    await h.close();
  }
});
