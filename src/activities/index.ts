import type { Dispatcher } from 'undici';
import type { HookflowConfig } from '../config/schema';
import { createFollowUpActivity } from './follow-up';

export interface ActivityDeps {
  config: HookflowConfig;
  http: Dispatcher;
}

/** All activities, built from their dependencies so tests can pass their own config and HTTP agent. */
export function createActivities(deps: ActivityDeps) {
  return {
    fetchFollowUp: createFollowUpActivity(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
