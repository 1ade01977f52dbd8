import { after, before } from 'node:test';
import { needPostgres } from '@hookwarden/testkit';
import { storeConformance } from './conformance.ts';
import { type Databases, startDatabases } from './pg-databases.ts';

const skip = needPostgres();
let databases: Databases | undefined;

if (!skip) {
  before(async () => {
    databases = await startDatabases();
  });
  after(async () => {
    await databases?.destroy();
  });
  storeConformance('postgres', () => (databases as Databases).store());
}
