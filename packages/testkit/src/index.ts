export { type Daemon, freePort, listen, startDaemon, waitForPort } from './net.ts';
export { startNginx } from './nginx.ts';
export { type Received, startReceiver, waitFor } from './receiver.ts';
export { tempDir } from './temp.ts';
export { needTools, which } from './tools.ts';
