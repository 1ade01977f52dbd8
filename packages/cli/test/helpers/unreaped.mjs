/**
 * Runs `hookwarden serve` (the arguments after this file's name) as its child and, when a byte
 * arrives on stdin, kills it with SIGKILL and leaves it unreaped (a zombie) until the next byte: the
 * state a supervisor that restarts at once leaves its predecessor in. This process's event loop
 * never runs meanwhile (it blocks in readSync), so nothing here reaps the child before it is told.
 * Plain JavaScript: each round of the restart test starts one, without loading tsx.
 */
import { spawn } from 'node:child_process';
import { readSync } from 'node:fs';

const child = spawn(process.execPath, process.argv.slice(2), { stdio: ['ignore', 'inherit', 'inherit'] });

/** Blocks until one byte arrives on stdin (or it closes). */
function awaitByte() {
  const byte = Buffer.alloc(1);
  for (;;) {
    try {
      readSync(0, byte, 0, 1, null);
      return;
    } catch (err) {
      // A non-blocking pipe: try again (a busy wait, in a helper that has nothing else to do).
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

awaitByte();
child.kill('SIGKILL');
awaitByte();
process.exit(0);
