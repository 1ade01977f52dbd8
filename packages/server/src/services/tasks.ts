import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Page, TaskFilter, TaskRow, TaskType } from '../store/types.ts';
import { authorize, type Caller } from './actor.ts';
import type { ServiceDeps } from './context.ts';

/** How long a task's record can be looked up after it ended. */
const TASK_TTL_MS = 30 * 24 * 3600 * 1000;

export type Tasks = ReturnType<typeof taskService>;

/**
 * Svix runs recover, replays and purges as background tasks and answers with the task, to be
 * polled. Here each completes before the answer: the task is recorded finished, with what it did,
 * so that polling it answers at once.
 */
export function taskService(deps: ServiceDeps) {
  async function finished(appId: string | null, task: TaskType, data: Record<string, unknown>): Promise<TaskRow> {
    const now = deps.now();
    const row: TaskRow = { id: newId('qtask', now), appId, task, status: 'finished', data, updatedAt: now };
    await deps.store.putTask(row, now + TASK_TTL_MS);
    return row;
  }

  /** The operator sees every task; an application actor only its application's. */
  async function list(c: Caller, f: Omit<TaskFilter, 'appId'>): Promise<Page<TaskRow>> {
    authorize(c.actor, 'task.read');
    return deps.store.listTasks({ ...f, ...(c.actor.kind === 'app' ? { appId: c.actor.appId } : {}) });
  }

  async function get(c: Caller, id: string): Promise<TaskRow> {
    authorize(c.actor, 'task.read');
    const t = await deps.store.getTask(id);
    // Another application's task is as absent as one that never was.
    if (!t || (c.actor.kind === 'app' && c.actor.appId !== t.appId)) throw notFound('background task');
    return t;
  }

  return { finished, list, get };
}
