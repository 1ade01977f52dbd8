import type { FastifyInstance } from 'fastify';
import type { TaskStatus, TaskType } from '../../store/types.ts';
import type { Routes } from '../context.ts';
import { params, query } from '../schemas.ts';
import { listOut, taskOut } from '../views.ts';

type Q = {
  limit: number;
  iterator?: string | null;
  order?: 'ascending' | 'descending';
  status?: TaskStatus;
  task?: TaskType;
};

/** Svix's background tasks, polled after recover, replays and purges (services/tasks.ts). */
export function backgroundTaskRoutes(api: FastifyInstance, { services }: Routes): void {
  const config = { action: 'task.read' } as const;
  api.get<{ Querystring: Q }>(
    '/api/v1/background-task',
    { schema: { querystring: query.tasks }, config },
    async (req) => listOut(await services.tasks.list(req.caller, req.query), taskOut),
  );

  api.get<{ Params: { task_id: string } }>(
    '/api/v1/background-task/:task_id',
    { schema: { params: params.task }, config },
    async (req) => taskOut(await services.tasks.get(req.caller, req.params.task_id)),
  );
}
