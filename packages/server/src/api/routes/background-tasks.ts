import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { TaskRow, TaskStatus, TaskType } from '../../store/types.ts';
import type { ApiDeps } from '../context.ts';
import { params, query } from '../schemas.ts';
import { listOut, taskOut } from '../views.ts';

/** How long a task's record can be looked up after it ended. */
const TASK_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * Svix runs recover, replays and purges as background tasks and answers with the task, to be
 * polled at `GET /api/v1/background-task/{id}`. Here each completes before the answer: the task is
 * recorded finished, with what it did, so that polling it answers at once.
 */
export async function finishedTask(deps: ApiDeps, appId: string | null, task: TaskType, data: Record<string, unknown>) {
  const now = deps.now();
  const row: TaskRow = { id: newId('qtask', now), appId, task, status: 'finished', data, updatedAt: now };
  await deps.store.putTask(row, now + TASK_TTL_MS);
  return taskOut(row);
}

type Q = {
  limit: number;
  iterator?: string | null;
  order?: 'ascending' | 'descending';
  status?: TaskStatus;
  task?: TaskType;
};

export function backgroundTaskRoutes(api: FastifyInstance, deps: ApiDeps): void {
  // The admin sees every task; an application token only its application's.
  api.get<{ Querystring: Q }>('/api/v1/background-task', { schema: { querystring: query.tasks } }, async (req) => {
    const scope = req.scope;
    const page = await deps.store.listTasks({ ...req.query, ...(scope.kind === 'app' ? { appId: scope.appId } : {}) });
    return listOut(page, taskOut);
  });

  api.get<{ Params: { task_id: string } }>(
    '/api/v1/background-task/:task_id',
    { schema: { params: params.task } },
    async (req) => {
      const t = await deps.store.getTask(req.params.task_id);
      // Another application's task is as absent as one that never was.
      if (!t || (req.scope.kind === 'app' && req.scope.appId !== t.appId)) throw notFound('background task');
      return taskOut(t);
    },
  );
}
