// The `hookwarden` command as it ran before the packages were compiled: the TypeScript sources
// through tsx's loader, imports between packages resolved to sources (run it with
// --conditions=@hookwarden/source). bench/cold-start.ts compares it with the compiled bin.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../../packages/cli/src/main.ts');
process.exitCode = await main(process.argv.slice(2));
