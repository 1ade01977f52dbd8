export { startCaddy } from './caddy.ts';
export { type PostOptions, post, type Reply } from './client.ts';
export { startHaproxy } from './haproxy.ts';
export { type Daemon, freePort, listen, startDaemon, waitForPort } from './net.ts';
export { startNginx, startNginxHttp } from './nginx.ts';
export { type Received, startReceiver, waitFor } from './receiver.ts';
export { type Serving, startServe } from './serve.ts';
export { tempDir } from './temp.ts';
export { needTools, which } from './tools.ts';
