/**
 * Runs `hookwarden serve` (the arguments after this file's name) as its child. On SIGUSR2 it kills
 * that child with SIGKILL and leaves it unreaped (a zombie) until a byte arrives on stdin: the state
 * a supervisor that restarts at once leaves its predecessor in. Its event loop does not run
 * meanwhile (it blocks in readSync), so nothing here reaps the child before it is told. Should the
 * child exit on its own, this process exits with its code. Plain JavaScript: each round of the
 * restart test starts one, without loading tsx.
 */
import { spawn } from 'node:child_process';
import { readSync } from 'node:fs';

const child = spawn(process.execPath, process.argv.slice(2), { stdio: ['ignore', 'inherit', 'inherit'] });
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

process.once('SIGUSR2', () => {
  child.kill('SIGKILL');
  const byte = Buffer.alloc(1);
  for (;;) {
    try {
      readSync(0, byte, 0, 1, null);
      break;
    } catch (err) {
      // A non-blocking pipe: try again (a busy wait, in a helper that has nothing else to do).
      if (err.code !== 'EAGAIN') throw err;
    }
  }
  process.exit(0);
});
