// The raw baselines alone (bench/ceiling.ts): no hookflow code in the bundle.
import { proxyActivities } from '@temporalio/workflow';

const { benchNoop } = proxyActivities<{ benchNoop(): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

/** The ceiling for end to end: one no-op activity. */
export async function rawActivityWorkflow(): Promise<void> {
  await benchNoop();
}
