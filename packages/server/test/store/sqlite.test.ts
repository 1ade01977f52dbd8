import { join } from 'node:path';
import { tempDir } from '@hookwarden/testkit';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { storeConformance } from './conformance.ts';

storeConformance('sqlite', async () => {
  const dir = tempDir();
  return { store: openSqliteStore(join(dir.path, 'hookwarden.db')), cleanup: async () => dir.cleanup() };
});
