import { defineQuery, defineSignal } from '@temporalio/workflow';
import { boundedWorkflowId } from './bounded';
import type { DeliveryInput } from './delivery';
import type { LaneTiming } from './lane-timing';

/**
 * Contract of the lane workflow (ordered delivery per entity): one lane per
 * (subscription, entity), `lane/<subscriptionId>/<entity>`, runs that subscription's deliveries about
 * that entity one at a time, in the order hookflow accepted the events.
 */

/** Workflow id of a lane; long entities end in a hash (boundedWorkflowId), so the id always fits. */
export const laneWorkflowId = (subscriptionId: string, entity: string) =>
  boundedWorkflowId(`lane/${subscriptionId}/${entity}`);

/** One delivery waiting in a lane. */
export interface LaneItem {
  /** The delivery workflow id, `delivery/<eventId>/<subscriptionId>`: the same as without ordering. */
  workflowId: string;
  /** When hookflow accepted the event (the front door's clock): the lane's order. */
  acceptedAt: string;
  input: DeliveryInput;
}

export interface LaneInput extends LaneTiming {
  subscriptionId: string;
  entity: string;
  /** Waiting deliveries (the first event, or what a continued-as-new run carries over). */
  queue: LaneItem[];
  /** Delivery ids this lane has run lately (carried over continue-as-new): an event enqueued twice runs once. */
  recent?: string[];
  delivered?: number;
  failed?: number;
  skipped?: number;
}

export interface LaneState {
  /** The delivery running now. */
  head?: string;
  /** When the head was started (ISO): how long the lane has been held by it. */
  headSince?: string;
  /** The deliveries waiting behind it, in order. */
  waiting: string[];
  delivered: number;
  failed: number;
  /** Heads an operator skipped (skipHead): cancelled, retryable later. */
  skipped?: number;
}

/** What the lane shows in its memo: its state with the first waiting ids only, and its entity. */
export interface LaneMemo extends Omit<LaneState, 'waiting'> {
  entity?: string;
  waitingCount: number;
  waiting: string[];
  /** The last head skipped, with the reason given. */
  lastSkip?: { delivery: string; reason: string; at: string };
}

/**
 * `skipHead`: stop waiting for the head delivery. The lane cancels it (the delivery ends Cancelled with
 * status `skipped`, retryable like a failed one) and goes on with the next event. `delivery` names the
 * head meant; a signal naming another (the head moved on meanwhile) is ignored. Without it, whatever
 * runs now is skipped.
 */
export interface SkipHead {
  delivery?: string;
  reason?: string;
}
export const skipHeadSignal = defineSignal<[SkipHead]>('skipHead');

export const enqueueSignal = defineSignal<[LaneItem]>('enqueue');
export const laneStateQuery = defineQuery<LaneState>('lane');
/** Memo key under which a lane shows its head and what waits behind it (Web UI, describe). */
export const LANE_MEMO = 'lane';

/** The lane workflow's signature, for starters that must not import its module (src/workflows/handoff.ts). */
export type LaneWorkflow = (input: LaneInput) => Promise<{ delivered: number; failed: number }>;
