import { condition, proxyActivities } from '@temporalio/workflow';

// Test-only workflows for the worker-shutdown test: one never ends, the other's activity waits on it.
export * from '../../../src/workflows';

const { awaitResultOf } = proxyActivities<{ awaitResultOf(workflowId: string): Promise<unknown> }>({
  startToCloseTimeout: '10 minutes',
});

export async function neverEndingWorkflow(): Promise<void> {
  await condition(() => false);
}

export async function waitsOnAnotherWorkflow(workflowId: string): Promise<unknown> {
  return awaitResultOf(workflowId);
}
