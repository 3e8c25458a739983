import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The activity's own failure: wrapped in an ActivityFailure, or as it is (a local activity's, as the SDK hands it over). */
export function activityCause(err: unknown): unknown {
  return err instanceof ActivityFailure ? err.cause : err;
}

/** The activity's own failure when it is an ApplicationFailure (one the activity threw). */
export function applicationCause(err: unknown): ApplicationFailure | undefined {
  const cause = activityCause(err);
  return cause instanceof ApplicationFailure ? cause : undefined;
}
