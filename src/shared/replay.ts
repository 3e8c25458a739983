import { defineQuery } from '@temporalio/workflow';
import { boundedWorkflowId } from './bounded';

/**
 * Contract of the replay workflow: re-delivers the events hookflow accepted in a time
 * range to one subscription. `replay/<subscriptionId>/<replayId>` is the business key: the same request
 * starts one replay, and its deliveries `replay/<subscriptionId>/<replayId>/<eventId>` run once each.
 */

export interface ReplayInput {
  subscriptionId: string;
  replayId: string;
  /** ISO-8601 instants: events accepted at or after `from` and before `to`. */
  from: string;
  to: string;
  /** Only these outbound types (`extend-commerce.OrderCreated`, `ongoing-wms.*`); all when absent. */
  types?: string[];
  /** Carried over continue-as-new. */
  pageToken?: string;
  progress?: ReplayProgress;
}

export interface ReplayProgress {
  /** Accepted events found in the range (inbound workflows that handed off). */
  scanned: number;
  /** ...of which the subscription's current triggers, filter, content filter and `types` take. */
  matched: number;
  /** Deliveries started (a delivery that already existed is counted under `existing`). */
  started: number;
  existing: number;
  pages: number;
  done: boolean;
}

export const REPLAY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;
export const replayWorkflowId = (subscriptionId: string, replayId: string) =>
  boundedWorkflowId(`replay/${subscriptionId}/${replayId}`);
export const replayDeliveryId = (subscriptionId: string, replayId: string, eventId: string) =>
  boundedWorkflowId(`replay/${subscriptionId}/${replayId}/${eventId}`);
export const replayProgressQuery = defineQuery<ReplayProgress>('progress');
/** Memo key of the replay's progress (Web UI, describe). */
export const REPLAY_MEMO = 'replay';
