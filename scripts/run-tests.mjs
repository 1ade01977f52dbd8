// Runs every package's tests (and the repository's, in test/) with Node's built-in runner:
// TypeScript through tsx, and the packages' own imports resolved to their sources through the
// `@hookwarden/source` export condition, so no test depends on a stale build. Tests that run the
// compiled CLI or pack the packages use dist/, which is brought up to date first (a no-op when it
// is: the build is incremental). Node 20's `--test` does not expand globs, so the files are listed
// here.
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
const roots = ['test', ...readdirSync('packages').map((p) => join('packages', p, 'test'))];
let files = roots.flatMap((r) => {
  try {
    return find(r);
  } catch {
    return [];
  }
});
if (filter.length > 0) files = files.filter((f) => filter.some((s) => f.includes(s)));
files.sort();
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// A hung test fails after 3 minutes instead of holding CI until its own limit (the whole suite
// takes under one).
const result = spawnSync(
  process.execPath,
  [
    '--conditions=@hookwarden/source',
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
