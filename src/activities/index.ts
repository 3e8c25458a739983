import type { Client } from '@temporalio/client';
import type { Dispatcher } from 'undici';
import type { HookflowConfig } from '../config/schema';
import type { Keyring } from '../security/keyring';
import { createAlertActivities } from './alerts';
import { createBulkRetryActivities } from './bulk-retry';
import { createDeliverActivity } from './deliver';
import { createSplitEnvelopeActivity } from './envelope';
import { createPlanDeliveriesActivity } from './fan-out';
import { createFollowUpActivity } from './follow-up';
import { createGateActivities } from './gate';
import { createHealthActivities, healthReporter } from './health';
import { createLaneActivities } from './lane';
import { createReplayActivities } from './replay';
import { TlsAgents } from './tls-agents';

export interface ActivityDeps {
  config: HookflowConfig;
  /** Keep-alive pool for follow-up fetches and deliveries with default TLS. */
  http: Dispatcher;
  /** Temporal client: subscription state, starting inbound workflows (envelopes), attempt reports. */
  client: Client;
  keyring?: Keyring;
  /**
   * Report failed delivery attempts to the health workflows (src/workflows/health.ts). The worker turns it
   * on; activities built for a test worker leave it off (a time-skipping server has no visibility to check).
   */
  healthReports?: boolean;
}

/** All activities, built from their dependencies so tests can pass their own config, HTTP agent and client. */
export function createActivities(deps: ActivityDeps) {
  const agents = new TlsAgents(deps.http, deps.keyring, deps.config.network.allow);
  const fetchFollowUp = createFollowUpActivity(deps);
  return {
    fetchFollowUp,
    planDeliveries: createPlanDeliveriesActivity(deps),
    deliver: createDeliverActivity({
      ...deps,
      agents,
      fetchFollowUp,
      reportHealth: deps.healthReports ? healthReporter(deps) : undefined,
    }),
    splitEnvelope: createSplitEnvelopeActivity(deps),
    ...createReplayActivities(deps),
    ...createLaneActivities(deps),
    ...createHealthActivities(deps),
    ...createAlertActivities(deps),
    ...createBulkRetryActivities(deps),
    ...createGateActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
