export { startCaddy } from './caddy.ts';
export { startHaproxy } from './haproxy.ts';
export { type Daemon, freePort, listen, startDaemon, waitForPort } from './net.ts';
export { startNginx } from './nginx.ts';
export { startNginxHttp } from './nginx-http.ts';
export { type Received, startReceiver, waitFor } from './receiver.ts';
export { tempDir } from './temp.ts';
export { needTools, which } from './tools.ts';
