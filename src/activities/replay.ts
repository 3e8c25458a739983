import { ApplicationFailure, log } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import type { EnrichedEvent, EventFilter, InboundWorkflowResult } from '../shared/inbound';
import type { DeliverySchedule } from '../shared/delivery';
import { FailureType } from '../shared/failure-types';
import { toOutboundEvent } from '../shared/outbound-event';
import { contentFilter, deliverySchedule } from './fan-out';
import { readSubscription } from '../subscriptions/lookup';
import { visibilityLiteral } from '../shared/visibility-literal';

export interface ReplayDeps {
  config: HookflowConfig;
  client: Client;
}

export interface ReplayPage {
  /** The subscription as it is now (its triggers, filter and content filter decide what is replayed). */
  subscription: { triggers: string[]; filter: EventFilter; schedule: DeliverySchedule; filterExpression?: string };
  /** Inbound workflows that accepted an event in the range and handed it off. */
  executions: Array<{ workflowId: string; runId: string }>;
  /** Base64 visibility page token; absent on the last page. */
  nextPageToken?: string;
}

/** An accepted event, with the content filter's verdict when it did not simply take it. */
export type AcceptedEvent = EnrichedEvent & { contentFilter?: false | string };

const PAGE_SIZE = 100;

const instant = (value: string) => {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw ApplicationFailure.create({
      type: FailureType.InvalidReplay,
      message: `not an ISO-8601 instant: ${JSON.stringify(value)}`,
      nonRetryable: true,
    });
  return new Date(ms).toISOString();
};

/** Visibility query of the accepted events of one deployment (task queue) in [from, to). */
export function acceptedEventsQuery(taskQueue: string, from: string, to: string): string {
  return `WorkflowType = 'inboundWorkflow' AND TaskQueue = ${visibilityLiteral(taskQueue)} AND HookflowStatus = 'handed-off' AND StartTime >= '${instant(from)}' AND StartTime < '${instant(to)}'`;
}

/**
 * The replay workflow's reads: one page of the inbound workflows that accepted an
 * event in the range (visibility), and the enriched event of one of them (its result: the event as
 * accepted, with its follow-up data; no source is asked again). Read only: the replay workflow starts
 * the deliveries itself.
 */
export function createReplayActivities({ config, client }: ReplayDeps) {
  return {
    async listReplayPage(input: {
      subscriptionId: string;
      from: string;
      to: string;
      pageToken?: string;
    }): Promise<ReplayPage> {
      const subscription = await readSubscription(client, input.subscriptionId);
      if (!subscription)
        throw ApplicationFailure.create({
          type: FailureType.SubscriptionNotFound,
          message: `subscription "${input.subscriptionId}" does not exist`,
          nonRetryable: true,
        });
      const response = await client.workflowService.listWorkflowExecutions({
        namespace: config.temporal.namespace,
        query: acceptedEventsQuery(config.temporal.taskQueue, input.from, input.to),
        pageSize: PAGE_SIZE,
        nextPageToken: input.pageToken ? Buffer.from(input.pageToken, 'base64') : undefined,
      });
      const executions = (response.executions ?? [])
        .map((e) => ({ workflowId: e.execution?.workflowId ?? '', runId: e.execution?.runId ?? '' }))
        .filter((e) => e.workflowId && e.runId);
      const token = response.nextPageToken?.length ? Buffer.from(response.nextPageToken).toString('base64') : undefined;
      log.info('replay page', {
        subscriptionId: input.subscriptionId,
        executions: executions.length,
        more: token !== undefined,
      });
      return {
        subscription: {
          triggers: subscription.triggers,
          filter: subscription.filter,
          schedule: deliverySchedule(subscription, config),
          ...(subscription.filterExpression ? { filterExpression: subscription.filterExpression } : {}),
        },
        executions,
        ...(token ? { nextPageToken: token } : {}),
      };
    },

    /**
     * The enriched event an inbound workflow handed off; null when there is none (gone, or not handed
     * off). With the subscription's content filter, its verdict as fan-out gives it: `contentFilter` is
     * false when the filter does not take the event, the reason when the filter failed on it.
     */
    async readAcceptedEvent(input: {
      workflowId: string;
      runId: string;
      filterExpression?: string;
    }): Promise<AcceptedEvent | null> {
      let enriched: EnrichedEvent;
      try {
        const result: InboundWorkflowResult = await client.workflow.getHandle(input.workflowId, input.runId).result();
        if (result.status !== 'handed-off' || !result.enriched) return null;
        enriched = result.enriched;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || err instanceof WorkflowFailedError) return null;
        throw err;
      }
      if (!input.filterExpression) return enriched;
      const verdict = await contentFilter(input.filterExpression, toOutboundEvent(enriched));
      return verdict === true ? enriched : { ...enriched, contentFilter: verdict };
    },
  };
}
