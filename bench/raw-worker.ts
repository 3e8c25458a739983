import { NativeConnection, Worker } from '@temporalio/worker';

/** A worker process with the raw baselines only (bench/ceiling.ts starts one or more). */
async function main() {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.CEILING_TASK_QUEUE!,
    workflowsPath: require.resolve('./raw-workflows'),
    activities: { benchNoop: async () => undefined },
  });
  process.send?.('ready');
  process.once('SIGTERM', () => worker.shutdown());
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
