import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { SubscriptionHold } from './subscription';

/**
 * The gate contract: `gate/<subscriptionId>` hands out permits to send while a subscription is held or
 * throttled (docs/operations.md "Hold and release", "Throttle"). Deliveries of a subscription that is
 * neither never meet it.
 */

export const gateWorkflowId = (subscriptionId: string) => `gate/${subscriptionId}`;

/** The subscription's settings the gate works by (sent by the subscription workflow on every change). */
export interface GateConfig {
  hold?: SubscriptionHold;
  /** Permits per second (token bucket). */
  rateLimit?: number;
  /** Permits out at once. */
  maxInFlight?: number;
  /** The receiver timeout: an unanswered permit expires this plus a minute after it was granted. */
  timeoutMs: number;
  /** The subscription's updatedAt: an older config never replaces a newer one. */
  updatedAt: string;
}

/** A delivery asking for a permit; queuedAt (ms since epoch) orders the queue, oldest first. */
export interface GateRequest {
  workflowId: string;
  queuedAt: number;
}
/** A permit, numbered: `done` names the number, so a late `done` cannot end a later permit. */
export interface GatePermit {
  grant: number;
  /** The breaker's probe: its outcome decides whether the subscription is released. */
  probe?: boolean;
}
export interface GateDone {
  workflowId: string;
  grant?: number;
  delivered: boolean;
}

export interface GateInput {
  subscriptionId: string;
  config: GateConfig;
  /** Carried over continue-as-new (compact: see src/workflows/gate.ts). */
  carried?: GateCarried;
  /** Continue-as-new past this many history events (default 5,000); kept across runs. */
  historyLimit?: number;
}
export interface GateCarried {
  /** `<queuedAt base36> <id>` per waiting delivery, oldest first. */
  queue: string[];
  /** [id, grant, expiresAt] per permit out. */
  inFlight: Array<[string, number, number]>;
  grants: number;
  tokens: number;
  probeIntervalMs?: number;
  nextProbeAt?: number;
  probe?: string;
}

export interface GateState {
  held: boolean;
  since?: string;
  by?: SubscriptionHold['by'];
  waiting: number;
  /**
   * Held: deliveries of the subscription in backoff after a failed attempt, not yet at the gate (visibility's
   * count; each joins `waiting` when its next attempt meets the hold). Absent when not held or not counted.
   */
  inBackoff?: number;
  inFlight: number;
  rateLimit?: number;
  maxInFlight?: number;
  nextProbeAt?: string;
}

export const gateRequestSignal = defineSignal<[GateRequest]>('request');
export const gateDoneSignal = defineSignal<[GateDone]>('done');
export const gateConfigSignal = defineSignal<[GateConfig]>('config');
/** Sent by the gate to a delivery workflow. */
export const gatePermitSignal = defineSignal<[GatePermit]>('permit');
export const gateStateQuery = defineQuery<GateState>('state');

/** The gate workflow's signature, for the client side (which must not import workflow code). */
export type GateWorkflow = (input: GateInput) => Promise<void>;

/** Held, throttled or neither: whether a delivery of this subscription must go through its gate. */
export function gateMode(s: { hold?: SubscriptionHold; rateLimit?: number; maxInFlight?: number }) {
  if (s.hold) return 'held' as const;
  if (s.rateLimit !== undefined || s.maxInFlight !== undefined) return 'throttled' as const;
  return undefined;
}

/** The gate's part of a subscription. */
export function gateConfigOf(s: {
  hold?: SubscriptionHold;
  rateLimit?: number;
  maxInFlight?: number;
  timeoutMs: number;
  updatedAt: string;
}): GateConfig {
  return {
    ...(s.hold ? { hold: s.hold } : {}),
    ...(s.rateLimit !== undefined ? { rateLimit: s.rateLimit } : {}),
    ...(s.maxInFlight !== undefined ? { maxInFlight: s.maxInFlight } : {}),
    timeoutMs: s.timeoutMs,
    updatedAt: s.updatedAt,
  };
}

/** Growing intervals between the breaker's probes: 30 s, 1 min, 2 min, ... at most 15 min. */
export const PROBE_FIRST_MS = 30_000;
export const PROBE_MAX_MS = 15 * 60_000;
