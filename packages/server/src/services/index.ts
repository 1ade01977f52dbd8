import { type Access, accessService } from './access.ts';
import { authorize, type Caller } from './actor.ts';
import { type Applications, applicationService } from './applications.ts';
import { type Attempts, attemptService } from './attempts.ts';
import { type Checks, checkService } from './checks.ts';
import { type Console, consoleService } from './console.ts';
import type { ServiceDeps } from './context.ts';
import { type Endpoints, endpointService } from './endpoints.ts';
import { type EventTypes, eventTypeService } from './event-types.ts';
import { type Integrations, integrationService } from './integrations.ts';
import { type Messages, messageService } from './messages.ts';
import { type Statistics, statisticService } from './statistics.ts';
import { type Tasks, taskService } from './tasks.ts';

export type { Actor, Caller, Capability } from './actor.ts';
export type { ServiceDeps } from './context.ts';

/** The rules of the platform, one service per concern; the API and the portal are adapters over them. */
export interface Services {
  deps: ServiceDeps;
  applications: Applications;
  access: Access;
  endpoints: Endpoints;
  eventTypes: EventTypes;
  messages: Messages;
  attempts: Attempts;
  checks: Checks;
  console: Console;
  integrations: Integrations;
  statistics: Statistics;
  tasks: Tasks;
  /** The operator's own application, whose endpoints receive operational webhooks. */
  operationalApp(c: Caller): ReturnType<ServiceDeps['operational']['app']>;
}

export function createServices(deps: ServiceDeps): Services {
  const tasks = taskService(deps);
  const applications = applicationService(deps);
  const endpoints = endpointService(deps, tasks);
  const messages = messageService(deps, applications, endpoints, tasks);
  return {
    deps,
    applications,
    access: accessService(deps, applications),
    endpoints,
    eventTypes: eventTypeService(deps),
    messages,
    attempts: attemptService(deps, endpoints, messages),
    checks: checkService(deps, endpoints),
    console: consoleService(deps),
    integrations: integrationService(deps),
    statistics: statisticService(deps, tasks),
    tasks,
    operationalApp(c) {
      authorize(c.actor, 'operational.manage');
      return deps.operational.app();
    },
  };
}
