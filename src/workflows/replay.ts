import {
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { keywordValue } from '../shared/bounded';
import { FailureType } from '../shared/failure-types';
import { filterRejection } from '../shared/filter';
import { triggersMatch } from '../shared/subscription';
import {
  REPLAY_MEMO,
  replayDeliveryId,
  replayProgressQuery,
  type ReplayInput,
  type ReplayProgress,
} from '../shared/replay';
import { SA } from '../shared/search-attributes';
import { startDelivery } from './handoff';
import { toOutboundEvent } from '../shared/outbound-event';

const { listReplayPage, readAcceptedEvent } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '30 seconds' },
});

/** Continue-as-new between pages once the history is this long (each event: an activity and a child start). */
const HISTORY_LIMIT = 5_000;

/**
 * `replay/<subscriptionId>/<replayId>`: re-delivers to one subscription the events hookflow accepted in
 * [from, to) (e.g. after the receiver lost its database). Pages through visibility (inbound workflows
 * that handed off, by start time), reads each event as it was enriched then (the inbound workflow's
 * result), keeps what the subscription's current triggers and filter (and `types`) take, and starts
 * one delivery workflow `replay/<subscriptionId>/<replayId>/<eventId>` each (ABANDON children: signed
 * and retried like any delivery). The ids make it idempotent: the same request starts one replay, and
 * a replay that runs again (reset, CLI) starts no delivery twice. Progress: the `progress` query and
 * the `replay` memo.
 */
export async function replayWorkflow(input: ReplayInput): Promise<ReplayProgress> {
  const { subscriptionId, replayId, from, to, types } = input;
  if (Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to)) || Date.parse(from) >= Date.parse(to)) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidReplay,
      message: 'from and to must be ISO-8601 instants with from before to',
      nonRetryable: true,
    });
  }
  // Input from the CLI has not been through the API's schema.
  if (
    typeof subscriptionId !== 'string' ||
    typeof replayId !== 'string' ||
    (types !== undefined && !(Array.isArray(types) && types.every((t) => typeof t === 'string')))
  ) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidReplay,
      message: 'subscriptionId and replayId must be strings, types a list of strings',
      nonRetryable: true,
    });
  }
  const progress: ReplayProgress = input.progress ?? {
    scanned: 0,
    matched: 0,
    started: 0,
    existing: 0,
    pages: 0,
    done: false,
  };
  setHandler(replayProgressQuery, () => progress);
  const publish = () => {
    upsertMemo({ [REPLAY_MEMO]: { subscriptionId, from, to, types: types ?? null, ...progress } });
    upsertSearchAttributes([
      { key: SA.subscription, value: keywordValue(subscriptionId) },
      { key: SA.status, value: progress.done ? 'done' : 'replaying' },
    ]);
  };
  publish();

  let pageToken = input.pageToken;
  do {
    const page = await listReplayPage({ subscriptionId, from, to, pageToken });
    const { triggers, filter, schedule, filterExpression } = page.subscription;
    const events = await Promise.all(
      page.executions.map((execution) =>
        readAcceptedEvent(filterExpression ? { ...execution, filterExpression } : execution),
      ),
    );
    await Promise.all(
      events.map(async (enriched) => {
        if (!enriched) return;
        progress.scanned += 1;
        const event = toOutboundEvent(enriched);
        if (
          (types && !triggersMatch(types, event.type)) ||
          !triggersMatch(triggers, event.type) ||
          filterRejection(event, filter) ||
          enriched.contentFilter === false
        )
          return;
        progress.matched += 1;
        const workflowId = replayDeliveryId(subscriptionId, replayId, event.id);
        // A content filter that failed on the event: its delivery records why, as fan-out's does.
        const filterError = typeof enriched.contentFilter === 'string' ? enriched.contentFilter : undefined;
        if (await startDelivery({ subscriptionId, workflowId, schedule, filterError }, event)) progress.started += 1;
        else progress.existing += 1;
      }),
    );
    progress.pages += 1;
    pageToken = page.nextPageToken;
    publish();
    if (pageToken && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT)) {
      await continueAsNew<typeof replayWorkflow>({ ...input, pageToken, progress });
    }
  } while (pageToken);

  progress.done = true;
  publish();
  return progress;
}
