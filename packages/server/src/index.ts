export { buildApi } from './api/app.ts';
export { hashToken } from './api/auth.ts';
export { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher/dispatcher.ts';
export { ServerError } from './errors.ts';
export { identityFromPem } from './identity.ts';
export { type PlatformIdentity, type RunningServer, type ServerOptions, startServer } from './server.ts';
export { openSqliteStore } from './store/sqlite/index.ts';
export type { Store } from './store/types.ts';
export { buildTrustDocument, type TrustDocument } from './trust.ts';
