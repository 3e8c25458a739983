// The bench worker runs hookflow's workflows plus two raw baselines, so both share one worker and server.
import { proxyActivities } from '@temporalio/workflow';

export * from '../src/workflows';

const { benchNoop } = proxyActivities<{ benchNoop(): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

/** The ceiling for starts: a workflow that does nothing. */
export async function rawNoopWorkflow(): Promise<void> {}

/** The ceiling for end to end: one no-op activity. */
export async function rawActivityWorkflow(): Promise<void> {
  await benchNoop();
}
