import type { ConnectionLike } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Client calls made inside an activity end when the activity is cancelled. A worker's shutdown
 * cancels the activities in flight, and an activity that queries or updates a workflow on its own
 * task queue (the breaker's hold, bulk retry, a gate's state) would otherwise wait for workflow tasks
 * that this worker no longer polls, and hold the shutdown until the server gives up on the call. The
 * cancelled attempt fails and the server retries it on a worker that runs.
 */
export function clientCallsEndOnCancellation(connection: ConnectionLike): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      execute: (input, next) => connection.withAbortSignal(ctx.cancellationSignal, () => next(input)),
    },
  });
}
