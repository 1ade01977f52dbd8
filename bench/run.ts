// `npm run bench`: runs every benchmark in this folder (each file exporting `run()`), or those named
// on the command line (`npm run bench -- verify gate`). Each prints ratios against a peer or the
// practical limit measured in the same run: absolute times on shared machines are noise.
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => wanted.length === 0 || wanted.includes(basename(f, '.ts')))
  .sort();

for (const file of files) {
  const mod = (await import(join(here, file))) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') continue;
  console.log(`\n=== bench/${file}`);
  await mod.run();
}
