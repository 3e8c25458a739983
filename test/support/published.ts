import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import actionSamples from '../fixtures/extend-action-samples.json';
import automationEvents from '../fixtures/automation/events.json';

/**
 * The senders' published payloads (test/fixtures/README.md says where each comes from), as the corpus
 * the unit, property and integration tests share.
 */
const ongoingDir = join(__dirname, '..', 'fixtures', 'ongoing');

/** Ongoing WMS: one published example per webhook family, by its page name (`order`, `shipment`, ...). */
export const ONGOING_EXAMPLES: Array<{ page: string; body: Record<string, unknown> }> = readdirSync(ongoingDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({
    page: name.replace(/\.json$/, ''),
    body: JSON.parse(readFileSync(join(ongoingDir, name), 'utf8')) as Record<string, unknown>,
  }))
  .sort((a, b) => (a.page < b.page ? -1 : 1));

/** Extend Commerce: the envelope of the older Extend page (seed 000), the ids as published there. */
export const EXTEND_ENVELOPE = {
  Id: '6e249eebb818463086ae0dda6eeba7b2',
  Attempt: 1,
  Properties: { NotificationId: '3b3fd4a6-36d5-46fe-8a3f-e73532529db3' },
};

/** Every action of Extend Commerce's complete list (seed 001) with its sample `Details`. */
export const EXTEND_NOTIFICATIONS: Array<{ Action: string; Details: Record<string, unknown> }> = Object.entries(
  actionSamples,
).map(([Action, sample]) => ({
  Action,
  Details: sample.Details as Record<string, unknown>,
}));

/** The 21 actions in one request, as Extend may send several notifications at once. */
export const extendEnvelope = (notifications = EXTEND_NOTIFICATIONS, envelope = EXTEND_ENVELOPE) => ({
  ...structuredClone(envelope),
  Notifications: structuredClone(notifications),
});

/** Automation API: the published body (seed 003) for each event type the page lists. */
export const AUTOMATION_EVENTS = automationEvents as Array<{ orderId: string; eventType: string }>;

export function valueAt(object: unknown, path: string): unknown {
  let value = object;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

export function setAt(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = object;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[keys.at(-1)!] = value;
}
