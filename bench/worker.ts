import { loadConfig } from '../src/config/load';
import { startWorker } from '../src/worker';

/** The bench's worker process (a child, so its RSS and CPU can be read alone): hookflow + raw baselines. */
async function main() {
  const running = await startWorker(loadConfig(), {
    workflowsPath: require.resolve('./workflows'),
    extraActivities: { benchNoop: async () => undefined },
  });
  process.send?.('ready');
  await running.done;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
