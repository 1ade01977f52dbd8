import { join } from 'node:path';
import { tempDir } from '@hookwarden/testkit';
import { openSqliteStoreInWorker } from '../../src/store/sqlite/worker.ts';
import { storeConformance } from './conformance.ts';

// The same contract, with the store on its own thread: arguments, results and errors cross it intact.
storeConformance('sqlite on a worker thread', async () => {
  const dir = tempDir();
  return { store: openSqliteStoreInWorker(join(dir.path, 'hookwarden.db')), cleanup: async () => dir.cleanup() };
});
