import {
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../shared/failure-types';
import { filterRejection } from '../shared/filter';
import type { EnrichedEvent, InboundStatus, InboundWorkflowInput, InboundWorkflowResult } from '../shared/inbound';
import { SA } from '../shared/search-attributes';
import { activityCause, applicationCause } from './activity-failure';
import { handOff } from './handoff';
import { toOutboundEvent } from '../shared/outbound-event';

const planRetry = { startToCloseTimeout: '1 minute', retry: { maximumInterval: '30 seconds' } } as const;
// Planning as a local activity (no task dispatch, no history events of its own): it reads subscriptions
// with describe only, never with a query, so it never waits for a workflow task (see planDeliveries).
const local = proxyLocalActivities<Activities>(planRetry);
// ...and a regular one for the rare subscription whose state is not in its memo yet (read with a query).
const regular = proxyActivities<Activities>(planRetry);

const FOLLOW_UP_FIRST_INTERVAL = '1 second';
/** Follow-up fetch: retried with backoff for up to 30 minutes, then the event ends as follow-up-failed. */
const { fetchFollowUp } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: FOLLOW_UP_FIRST_INTERVAL, backoffCoefficient: 2, maximumInterval: '1 minute' },
});
/** Its first try as a local activity (no activity task, no second workflow task): most answer at once. */
const { fetchFollowUp: fetchFollowUpLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 1 },
});

/** Patch id (docs/workflow-versioning.md): the follow-up's first try runs as a local activity. */
const LOCAL_FOLLOW_UP = 'local-follow-up';

/**
 * The follow-up data: first a local try, then, after a retryable failure and the policy's first interval,
 * the regular activity with its retries (the Web UI's pending activity while the source's API is down).
 * A permanent failure (404, refused URL, ...) of the local try ends the fetch as it would the regular one.
 */
async function fetchFollowUpData(input: { sourceId: string; url: string }) {
  if (patched(LOCAL_FOLLOW_UP)) {
    try {
      return await fetchFollowUpLocally(input);
    } catch (err) {
      if (isCancellation(err) || applicationCause(err)?.nonRetryable) throw err;
      await sleep(FOLLOW_UP_FIRST_INTERVAL);
    }
  }
  return await fetchFollowUp(input);
}

function setStatus(status: InboundStatus): void {
  upsertSearchAttributes([{ key: SA.status, value: status }]);
}

/** One notification from a source: filter, fetch the follow-up data, hand the enriched event on. */
export async function inboundWorkflow(input: InboundWorkflowInput): Promise<InboundWorkflowResult> {
  const { event, filter, followUp } = input;

  const rejection = filterRejection(event, filter);
  if (rejection) {
    setStatus('filtered');
    log.info('event filtered out', { reason: rejection });
    return { status: 'filtered', reason: rejection };
  }

  const enriched: EnrichedEvent = { event };
  if (followUp.kind === 'unavailable') {
    setStatus('follow-up-failed');
    return { status: 'follow-up-failed', reason: followUp.reason, enriched };
  }
  if (followUp.kind === 'fetch') {
    setStatus('fetching');
    try {
      enriched.followUp = await fetchFollowUpData({ sourceId: event.sourceId, url: followUp.url });
    } catch (err) {
      const cause = activityCause(err);
      const failure = applicationCause(err);
      if (failure?.type === FailureType.FollowUpNotFound) {
        setStatus('follow-up-not-found');
        return { status: 'follow-up-not-found', reason: failure.message, enriched };
      }
      setStatus('follow-up-failed');
      return { status: 'follow-up-failed', reason: cause instanceof Error ? cause.message : String(err), enriched };
    }
  }

  // Hand-off: one delivery per matching subscription (none may match). The planning activity starts the
  // direct ones (`start`); lanes and coalescers are fed here. A history recorded before planning started
  // deliveries has every delivery in `planned` and no `started`: it replays the child starts it recorded.
  const outbound = toOutboundEvent(enriched);
  const { planned, unread, started = [] } = await local.planDeliveries({ event: outbound, query: false, start: true });
  if (unread.length) {
    const more = await regular.planDeliveries({ event: outbound, query: true, candidates: unread, start: true });
    planned.push(...more.planned);
    started.push(...(more.started ?? []));
  }
  await handOff(planned, event, outbound);
  setStatus('handed-off');
  return {
    status: 'handed-off',
    enriched,
    deliveries: [...started, ...planned].map(({ subscriptionId, workflowId }) => ({ subscriptionId, workflowId })),
  };
}
