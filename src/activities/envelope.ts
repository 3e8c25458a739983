import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { activityInfo, heartbeat, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startInbound } from '../temporal/start-inbound';
import type { HookflowConfig } from '../config/schema';
import { UnprocessableError } from '../errors';
import { sourceKindOf } from '../sources';
import { inboundInput } from '../sources/inbound-input';
import type { EnvelopeInput, EnvelopeResult } from '../shared/envelope';

export interface EnvelopeDeps {
  config: HookflowConfig;
  client: Client;
}

/** Starts at a time: bounded work in flight, and the heartbeat records how far the envelope got. */
export const ENVELOPE_BATCH = 32;
const gunzipAsync = promisify(gunzip);

interface Progress {
  next: number;
  started: number;
  duplicates: number;
  refused: EnvelopeResult['refused'];
}

/**
 * Parses an envelope's raw body again (gzipped by the front door, which verified and validated the same bytes)
 * and starts each notification's inbound workflow exactly as the front door does for a small request.
 * Resumes from its last heartbeat after a retry; already started workflows count as duplicates.
 */
export function createSplitEnvelopeActivity({ config, client }: EnvelopeDeps) {
  return async function splitEnvelope(input: EnvelopeInput, body: Uint8Array): Promise<EnvelopeResult> {
    const source = config.sources.find((s) => s.id === input.sourceId);
    if (!source)
      throw ApplicationFailure.nonRetryable(
        `source "${input.sourceId}" is not configured on this worker`,
        'UnknownSource',
      );
    const rawBody = await gunzipAsync(body);
    const receivedAt = new Date(input.receivedAt);
    const kind = sourceKindOf(source);
    let notifications;
    try {
      notifications = kind.parse(
        JSON.parse(rawBody.toString('utf8').replace(/^\uFEFF/, '')),
        { rawBody, headers: {}, query: {}, receivedAt },
        source,
      );
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `the envelope no longer parses: ${(err as Error).message}`,
        'InvalidEnvelope',
      );
    }
    if (notifications.length !== input.notifications) {
      throw ApplicationFailure.nonRetryable(
        `the front door counted ${input.notifications} notifications, the worker ${notifications.length}`,
        'InvalidEnvelope',
      );
    }

    const progress: Progress = (activityInfo().heartbeatDetails as Progress | undefined) ?? {
      next: 0,
      started: 0,
      duplicates: 0,
      refused: [],
    };
    while (progress.next < notifications.length) {
      const batch = notifications.slice(progress.next, progress.next + ENVELOPE_BATCH);
      const outcomes = await Promise.all(
        batch.map(async (notification, i) => {
          try {
            return await startInbound(
              client,
              config,
              inboundInput(source, notification, receivedAt, progress.next + i),
            );
          } catch (err) {
            // Permanent for this notification (a small request would get 422): record it, go on with the rest.
            if (err instanceof UnprocessableError)
              return { refused: { eventKey: notification.eventKey, reason: err.message } };
            throw err; // Temporal unavailable: the activity is retried and resumes at `progress.next`
          }
        }),
      );
      for (const outcome of outcomes) {
        if ('refused' in outcome) progress.refused.push(outcome.refused);
        else if (outcome.duplicate) progress.duplicates++;
        else progress.started++;
      }
      progress.next += batch.length;
      heartbeat(progress);
    }
    log.info('envelope split', {
      sourceId: input.sourceId,
      notifications: notifications.length,
      started: progress.started,
      duplicates: progress.duplicates,
      refused: progress.refused.length,
    });
    return {
      notifications: notifications.length,
      started: progress.started,
      duplicates: progress.duplicates,
      refused: progress.refused.slice(0, 100),
    };
  };
}
