import type { DevServer } from '../../src/stack/dev-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __hookflowDevServer?: DevServer }).__hookflowDevServer?.stop();
}
