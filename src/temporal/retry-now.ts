import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ConflictError } from '../errors';
import { retryNowSignal } from '../shared/delivery';
import { describeDelivery, firstRetryAt } from './deliveries';

const { PendingActivityState } = temporal.api.enums.v1;

/**
 * Sends the next attempt of a delivery in backoff now (docs/operations.md "Retry now"): the delivery
 * cancels the waiting attempt and starts the next, attempt numbers going on, through the gate when the
 * subscription is held or throttled. ConflictError when the delivery is not waiting to retry.
 */
export async function retryDeliveryNow(client: Client, id: string): Promise<void> {
  const description = await describeDelivery(client, id);
  const pending = description.raw.pendingActivities?.[0];
  const inBackoff =
    description.status.name === 'RUNNING' &&
    // After a failed local first attempt the delivery waits on a timer (no pending activity) until the memo's time.
    (firstRetryAt(description) !== undefined ||
      (pending?.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED && (pending.attempt ?? 1) > 1));
  if (!inBackoff) throw new ConflictError(`delivery "${id}" is not waiting for its next attempt`);
  await client.workflow.getHandle(id).signal(retryNowSignal);
}
