export { startCaddy } from './caddy.ts';
export { type PostOptions, post, type Reply } from './client.ts';
export { startHaproxy } from './haproxy.ts';
export { HOSTILE_KINDS, type HostileEndpoint, type HostileKind, startHostileEndpoint } from './hostile.ts';
export { type Daemon, freePort, listen, startDaemon, waitForPort } from './net.ts';
export { startNginx, startNginxHttp } from './nginx.ts';
export { type Received, startReceiver, waitFor } from './receiver.ts';
export { tempDir } from './temp.ts';
export { needTools, which } from './tools.ts';
