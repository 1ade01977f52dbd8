/**
 * Hostile endpoints (testkit's, all five kinds in turn) in a process of their own, as other
 * customers' servers are: their CPU is not the dispatcher's. Told { count, certPem, keyPem } over
 * IPC, it answers with their URLs and runs until killed.
 */
import { HOSTILE_KINDS, startHostileEndpoint } from '@hookwarden/testkit';

process.once('message', async (m: { count: number; certPem: string; keyPem: string }) => {
  const urls: string[] = [];
  for (let i = 0; i < m.count; i++) {
    const kind = HOSTILE_KINDS[i % HOSTILE_KINDS.length] as (typeof HOSTILE_KINDS)[number];
    urls.push((await startHostileEndpoint(kind, m)).url);
  }
  process.send?.(urls);
});
