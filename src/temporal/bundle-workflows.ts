import type { DataConverter, Logger } from '@temporalio/common';
import { Runtime, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

/**
 * The bundler reports webpack's module list and the bundle size at INFO: worth reading when bundling
 * goes wrong, noise at every start. Those lines go to DEBUG; warnings and errors (a failed build) stay.
 */
function bundlerLogger(logger: Logger): Logger {
  return {
    log: (level, message, meta) => logger.log(level === 'INFO' ? 'DEBUG' : level, message, meta),
    trace: (message, meta) => logger.trace(message, meta),
    debug: (message, meta) => logger.debug(message, meta),
    info: (message, meta) => logger.debug(message, meta),
    warn: (message, meta) => logger.warn(message, meta),
    error: (message, meta) => logger.error(message, meta),
  };
}

/** The OpenTelemetry workflow interceptors (workflow, activity-start and child-workflow spans; trace ids in workflow logs). */
const TRACING_WORKFLOW_INTERCEPTORS =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * The workflows bundled as Worker.create would (same converters), logging through the Runtime's logger;
 * with `tracing`, the OpenTelemetry workflow interceptors are bundled in (only then: off, nothing changes).
 */
export async function bundleWorkflows(
  workflowsPath: string,
  dataConverter?: DataConverter,
  { tracing = false }: { tracing?: boolean } = {},
): Promise<WorkflowBundle> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...(tracing ? { workflowInterceptorModules: [TRACING_WORKFLOW_INTERCEPTORS] } : {}),
    failureConverterPath: dataConverter?.failureConverterPath,
    payloadConverterPath: dataConverter?.payloadConverterPath,
    logger: bundlerLogger(Runtime.instance().logger),
  });
  return { code };
}
