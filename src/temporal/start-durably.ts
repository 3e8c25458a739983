import {
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ValueError, type Workflow } from '@temporalio/common';
import { UnavailableError, UnprocessableError } from '../errors';

/** gRPC status INVALID_ARGUMENT: Temporal refuses the request itself (an id or a payload over its limits). */
const INVALID_ARGUMENT = 3;

/**
 * Starts a workflow and resolves only once Temporal has durably accepted it. A workflow id that already
 * exists is a duplicate (resolves with `duplicate: true`). Temporal not answering within `timeoutMs`
 * becomes an UnavailableError (503): the caller retries, and the workflow id makes that retry idempotent.
 */
export async function startDurably<W extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
  timeoutMs: number,
): Promise<{ workflowId: string; duplicate: boolean }> {
  const signal = AbortSignal.timeout(timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  // The abort signal cancels the gRPC call; the timer also bounds the connection attempt itself.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Temporal within ${timeoutMs} ms`)), timeoutMs + 250);
  });
  try {
    const start = client.withAbortSignal(signal, () => client.workflow.start<W>(workflowType, options));
    start.catch(() => undefined); // a late rejection after the deadline is not unhandled
    const handle = await Promise.race([start, deadline]);
    return { workflowId: handle.workflowId, duplicate: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId: options.workflowId, duplicate: true };
    // Permanent refusals are not outages: a 503 would have the source retry forever.
    // (JSON.stringify of a deeply nested value fails as a ValueError, or deeper still as a RangeError.)
    if (err instanceof ValueError || err instanceof RangeError)
      throw new UnprocessableError('the event cannot be stored (it cannot be serialised)');
    const grpc = err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : undefined;
    if (grpc?.code === INVALID_ARGUMENT)
      throw new UnprocessableError(`the workflow engine refused the event: ${grpc.details}`);
    throw new UnavailableError('the workflow engine did not accept the event in time; retry later', 5, err);
  } finally {
    clearTimeout(timer);
  }
}
