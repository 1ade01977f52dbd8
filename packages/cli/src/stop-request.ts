/**
 * Resolves with why a long-running command (serve, gate) should stop: `SIGTERM`, `SIGINT`, or
 * `npm-wrapper-gone`.
 *
 * Why the third: `npx hookwarden serve` and npm scripts run us under `sh -c`. npm passes a SIGTERM
 * on to that shell, and Debian's sh (dash) dies of it without passing it to us, so a supervisor
 * that signals npm would leave the server running, orphaned, on its port. Under npm
 * (`npm_lifecycle_event` is set) the shell outlives us unless it was killed, so a new parent
 * process means exactly that, and we stop as if signalled.
 */
export function stopRequested(): Promise<'SIGTERM' | 'SIGINT' | 'npm-wrapper-gone'> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (reason: 'SIGTERM' | 'SIGINT' | 'npm-wrapper-gone') => {
      clearInterval(timer);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(reason);
    };
    const onTerm = () => finish('SIGTERM');
    const onInt = () => finish('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (process.env.npm_lifecycle_event !== undefined) {
      const parent = process.ppid;
      timer = setInterval(() => {
        if (process.ppid !== parent) finish('npm-wrapper-gone');
      }, 250);
      // The server's own handles keep the process alive; this check never should.
      timer.unref();
    }
  });
}
