import { adminApi } from '../support/outbound';
import { startHarness, testConfig, type Harness } from '../support/harness';

// A replayId names one replay from the instant it is started: no worker polls here, so no replay
// workflow ever runs a task, and the conflict must be decided from what the start itself stored.
let h: Harness;
let subscription: string;

beforeAll(async () => {
  h = await startHarness(testConfig(''), { worker: false });
  subscription = `rid-${Date.now().toString(36)}`;
  const res = await adminApi(h, 'POST', '/api/subscriptions', {
    id: subscription,
    name: 'Replay ids',
    contactEmail: 'tech@example.com',
    url: 'https://example.com/hook',
    triggers: ['shop.*'],
  });
  if (res.statusCode !== 201) throw new Error(`create subscription: ${res.statusCode} ${res.body}`);
});

afterAll(async () => {
  await h?.stop();
});

const hour = 3_600_000;
const range = (hoursAgo: number) => ({
  from: new Date(Date.UTC(2026, 0, 1) - hoursAgo * hour).toISOString(),
  to: new Date(Date.UTC(2026, 0, 1)).toISOString(),
});
const replay = (body: Record<string, unknown>) =>
  adminApi(h, 'POST', `/api/subscriptions/${subscription}/replay`, body);

test('the same replayId with another range or other types: 409 at once, every time; the same request: 200 duplicate', async () => {
  const replayId = `first-${Date.now().toString(36)}`;
  const first = await replay({ ...range(2), types: ['shop.OrderPaid', 'shop.OrderCreated'], replayId });
  expect(first.statusCode).toBe(202);

  for (let i = 0; i < 2; i++) {
    const otherRange = await replay({ ...range(3), types: ['shop.OrderPaid', 'shop.OrderCreated'], replayId });
    expect(otherRange.statusCode).toBe(409);
    expect(otherRange.json()).toMatchObject({ error: 'conflict', message: expect.stringContaining(replayId) });
    const otherTypes = await replay({ ...range(2), types: ['shop.OrderPaid'], replayId });
    expect(otherTypes.statusCode).toBe(409);
    const allTypes = await replay({ ...range(2), replayId });
    expect(allTypes.statusCode).toBe(409);
  }

  // The same request (types in another order are the same set): the same replay, nothing new started.
  const again = await replay({ ...range(2), types: ['shop.OrderCreated', 'shop.OrderPaid'], replayId });
  expect(again.statusCode).toBe(200);
  expect(again.json()).toMatchObject({ replayId, duplicate: true });
});

test('two requests with the same replayId and different ranges sent together: one 202, one 409', async () => {
  const replayId = `together-${Date.now().toString(36)}`;
  const answers = await Promise.all([replay({ ...range(2), replayId }), replay({ ...range(5), replayId })]);
  expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409]);
});
