import { acceptedEventsQuery } from '../../src/activities/replay';
import { derivedReplayId, replayRequestSchema } from '../../src/api/routes/replay';
import { laneWorkflowId } from '../../src/shared/lane';
import { replayDeliveryId } from '../../src/shared/replay';
import { createSubscriptionSchema } from '../../src/subscriptions/schema';

describe('lane ids', () => {
  test('lane/<subscription>/<entity>, bounded with a hash when long, distinct per entity', () => {
    expect(laneWorkflowId('erp-sync', 'SO-7')).toBe('lane/erp-sync/SO-7');
    const long = laneWorkflowId('erp-sync', 'x'.repeat(400));
    expect(long.length).toBeLessThanOrEqual(255);
    expect(long).toMatch(/^lane\/erp-sync\/x+~[0-9a-f]{16}$/);
    expect(laneWorkflowId('erp-sync', `${'x'.repeat(400)}y`)).not.toBe(long);
  });
});

describe('replay', () => {
  const base = { from: '2026-11-24T08:00:00Z', to: '2026-11-24T12:00:00Z' };
  test('the derived replay id is the same for the same request, whatever the order of types or the time zone', () => {
    expect(derivedReplayId({ ...base, types: ['b.*', 'a.X'] })).toBe(
      derivedReplayId({ from: '2026-11-24T09:00:00+01:00', to: base.to, types: ['a.X', 'b.*'] }),
    );
    expect(derivedReplayId(base)).not.toBe(derivedReplayId({ ...base, to: '2026-11-24T12:00:01Z' }));
    expect(derivedReplayId(base)).not.toBe(derivedReplayId({ ...base, types: ['a.X'] }));
    expect(derivedReplayId(base)).toMatch(/^r-[0-9a-f]{24}$/);
  });
  test('delivery ids mark the replay', () => {
    expect(replayDeliveryId('erp-sync', 'lost-db', 'erp/abc-0')).toBe('replay/erp-sync/lost-db/erp/abc-0');
  });
  test('the request schema', () => {
    expect(replayRequestSchema.safeParse(base).success).toBe(true);
    expect(replayRequestSchema.safeParse({ from: base.to, to: base.from }).success).toBe(false);
    expect(replayRequestSchema.safeParse({ ...base, types: ["x' OR 1=1"] }).success).toBe(false);
  });
  test('the visibility query normalises the instants (nothing of the input reaches it unparsed)', () => {
    expect(acceptedEventsQuery('hookflow', '2026-11-24T09:00:00+01:00', base.to)).toBe(
      "WorkflowType = 'inboundWorkflow' AND TaskQueue = 'hookflow' AND HookflowStatus = 'handed-off' AND StartTime >= '2026-11-24T08:00:00.000Z' AND StartTime < '2026-11-24T12:00:00.000Z'",
    );
  });
});

test('ordering: none or entity', () => {
  const fields = { id: 'o', name: 'x', contactEmail: 'x@example.com', url: 'http://127.0.0.1:1/', triggers: ['*'] };
  expect(createSubscriptionSchema.safeParse({ ...fields, ordering: 'entity' }).success).toBe(true);
  expect(createSubscriptionSchema.safeParse({ ...fields, ordering: 'order' }).success).toBe(false);
  expect(createSubscriptionSchema.parse(fields)).not.toHaveProperty('ordering');
});
