import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import {
  gateConfigOf,
  gateConfigSignal,
  gateRequestSignal,
  gateWorkflowId,
  type GateConfig,
  type GateRequest,
  type GateWorkflow,
} from '../shared/gate';
import { releaseSignal, subscriptionWorkflowId } from '../shared/subscription';
import { readSubscription } from '../subscriptions/lookup';

/** Default receiver timeout for a gate started for a subscription that is gone (its deliveries skip). */
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The gate's activities: every message to `gate/<subscriptionId>` from outside it is a signalWithStart, so
 * a gate that ended idle starts again with the message (src/workflows/gate.ts).
 */
export function createGateActivities({ client }: { client: Client }) {
  const startArgs = (subscriptionId: string, config: GateConfig) => ({
    workflowId: gateWorkflowId(subscriptionId),
    taskQueue: Context.current().info.taskQueue,
    args: [{ subscriptionId, config }] as Parameters<GateWorkflow>,
  });

  return {
    /** A delivery asks for a permit (local activity of the delivery workflow). */
    async requestPermit(input: { subscriptionId: string } & GateRequest): Promise<void> {
      const subscription = await readSubscription(client, input.subscriptionId, { query: false });
      const config =
        subscription && subscription !== 'unread'
          ? gateConfigOf(subscription)
          : { timeoutMs: DEFAULT_TIMEOUT_MS, updatedAt: new Date(0).toISOString() };
      await client.workflow.signalWithStart<GateWorkflow, [GateRequest]>('gateWorkflow', {
        ...startArgs(input.subscriptionId, config),
        signal: gateRequestSignal,
        signalArgs: [{ workflowId: input.workflowId, queuedAt: input.queuedAt }],
      });
    },

    /** The subscription workflow tells its gate about a changed hold, rateLimit or maxInFlight. */
    async configureGate(input: { subscriptionId: string; config: GateConfig }): Promise<void> {
      await client.workflow.signalWithStart<GateWorkflow, [GateConfig]>('gateWorkflow', {
        ...startArgs(input.subscriptionId, input.config),
        signal: gateConfigSignal,
        signalArgs: [input.config],
      });
    },

    /** The breaker's probe was delivered: the gate releases the subscription's breaker hold. */
    async releaseBreakerHold(input: { subscriptionId: string }): Promise<void> {
      await client.workflow
        .getHandle(subscriptionWorkflowId(input.subscriptionId))
        .signal(releaseSignal, { by: 'breaker' });
    },
  };
}
