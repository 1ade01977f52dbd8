/**
 * The WAL checkpointer's thread. SQLite's automatic checkpoint runs inside the commit that crosses
 * the WAL size limit, on the store's own thread: it copies the WAL into the database and fsyncs,
 * a few milliseconds during which claims wait. Measured in bench/dispatch.ts, those waits were most
 * of the dispatcher's slowest claims (p90 2.5-3 ms; 1.7 ms without them, and ~10% more deliveries
 * per second). Here a second connection checkpoints PASSIVE (never waiting for the writer or
 * readers) on a timer instead; the store keeps a much larger automatic limit as a safety net.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

if (!parentPort) throw new Error('checkpointer.ts runs only as a worker thread');
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or interrupted: the next tick tries again, and the store's own limit bounds the WAL.
  }
}, intervalMs);
parentPort.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
