import { randomBytes } from 'node:crypto';
import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import type { ApplicationRow, IntegrationRow, Page, PageQuery } from '../store/types.ts';
import { hashToken } from './access.ts';
import { authorize, type Caller, within } from './actor.ts';
import type { ServiceDeps } from './context.ts';

/** A new key, shown to the caller and kept; requests find it by its digest, as tokens are. */
function newKey(): { key: string; hash: string } {
  const key = `integsk_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashToken(key).toString('hex') };
}

export type Integrations = ReturnType<typeof integrationService>;

/**
 * Svix's integrations: named keys that act on one application as an application token without
 * capabilities does, seeing the flagged event types their feature flags name. The operator's only.
 */
export function integrationService(deps: ServiceDeps) {
  const { store } = deps;

  async function get(c: Caller, app: ApplicationRow, id: string): Promise<IntegrationRow> {
    authorize(c.actor, 'integration.manage');
    within(c.actor, app.id);
    const found = await store.getIntegration(app.id, id);
    if (!found) throw notFound('integration');
    return found;
  }

  async function list(c: Caller, app: ApplicationRow, page: PageQuery): Promise<Page<IntegrationRow>> {
    authorize(c.actor, 'integration.manage');
    within(c.actor, app.id);
    return store.listIntegrations(app.id, page);
  }

  async function create(c: Caller, app: ApplicationRow, b: { name: string; featureFlags?: string[] }) {
    authorize(c.actor, 'integration.manage');
    within(c.actor, app.id);
    const { key, hash } = newKey();
    const now = deps.now();
    const row = { id: newId('integ', now), appId: app.id, name: b.name, featureFlags: b.featureFlags ?? null, key };
    return store.createIntegration(row, hash, now);
  }

  async function update(c: Caller, app: ApplicationRow, id: string, b: { name: string; featureFlags?: string[] }) {
    const i = await get(c, app, id);
    const change = { name: b.name, featureFlags: b.featureFlags ?? null };
    const updated = await store.updateIntegration(i.appId, i.id, change, deps.now());
    if (!updated) throw notFound('integration');
    return updated;
  }

  async function remove(c: Caller, app: ApplicationRow, id: string): Promise<void> {
    const i = await get(c, app, id);
    if (!(await store.deleteIntegration(i.appId, i.id))) throw notFound('integration');
  }

  /** A new key; the previous one stops working at once. */
  async function rotateKey(c: Caller, app: ApplicationRow, id: string): Promise<string> {
    const i = await get(c, app, id);
    const { key, hash } = newKey();
    if (!(await store.rotateIntegrationKey(i.appId, i.id, key, hash, deps.now()))) throw notFound('integration');
    return key;
  }

  return { get, list, create, update, remove, rotateKey };
}
