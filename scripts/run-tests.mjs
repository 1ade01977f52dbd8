// Runs every package's tests with Node's built-in runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  let out = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'fixtures') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
const roots = readdirSync('packages').map((p) => join('packages', p, 'test'));
let files = roots.flatMap((r) => {
  try {
    return find(r);
  } catch {
    return [];
  }
});
if (filter.length > 0) files = files.filter((f) => filter.some((s) => f.includes(s)));
files.sort();
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// A hung test fails after 3 minutes instead of holding CI until its own limit (the whole suite
// takes under one).
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=180000',
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
