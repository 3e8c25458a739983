// The bench worker runs hookflow's workflows plus two raw baselines, so both share one worker and server.
import { condition, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';

export * from '../src/workflows';

const { benchNoop } = proxyActivities<{ benchNoop(): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

/** The ceiling for starts: a workflow that does nothing. */
export async function rawNoopWorkflow(): Promise<void> {}

/** The ceiling for end to end: one no-op activity. */
export async function rawActivityWorkflow(): Promise<void> {
  await benchNoop();
}

/** A long-running workflow with a query handler: the probe measures how many queries of one workflow are answered per second. */
export async function probeQueryTarget(): Promise<void> {
  setHandler(defineQuery<number>('get'), () => 1);
  await condition(() => false);
}
