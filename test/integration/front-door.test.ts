import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSplitEnvelopeActivity } from '../../src/activities/envelope';
import { envelopeWorkflowId, type EnvelopeResult } from '../../src/shared/envelope';
import { inboundWorkflowId } from '../../src/shared/inbound';
import { SA } from '../../src/shared/search-attributes';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { sign } from '../support/webhooks';

/**
 * The front door against hostile and unusual senders: media-type parameters and a BOM,
 * rate limits that only the source's own credentials can use up, and large envelopes acknowledged
 * after one durable start.
 */

const SECRET = 'front-door-secret';
const SPLIT_ABOVE = 20;
const MAX_NOTIFICATIONS = 3000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness(
    testConfig(`
server:
  rateLimit: { max: 100000, window: PT1M }
  authFailureLimit: { max: 5, window: PT1M }
  envelopes: { splitAbove: ${SPLIT_ABOVE}, maxNotifications: ${MAX_NOTIFICATIONS} }
sources:
  # Events of a warehouse outside the filter end at once ("filtered"): large envelopes stay cheap to run.
  - { id: erp, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [NOWHERE] } }
  - { id: limited, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [NOWHERE] }, rateLimit: { max: 5, window: PT1M } }
  - { id: victim, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [NOWHERE] } }
  - { id: bulk, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [NOWHERE] } }
`),
  );
});
afterAll(() => h?.stop());

function envelope(count: number, notificationId = randomUUID(), attempt = 1) {
  const notifications = Array.from({ length: count }, (_, i) => ({
    Action: 'OrderCreated',
    Details: { OrderNumber: `FD-${i}`, Warehouse: 'W1' },
  }));
  return {
    notificationId,
    text: JSON.stringify({
      Id: notificationId.replace(/-/g, ''),
      Attempt: attempt,
      Properties: { NotificationId: notificationId },
      Notifications: notifications,
    }),
  };
}

function postRaw(source: string, body: string | Buffer, headers: Record<string, string>, remoteAddress = '127.0.0.1') {
  return h.app.inject({ method: 'POST', url: `/webhooks/${source}`, payload: body, remoteAddress, headers });
}
const signed = (source: string, body: string | Buffer, contentType = 'application/json', remoteAddress?: string) =>
  postRaw(
    source,
    body,
    { 'content-type': contentType, 'ms-signature': sign.ms(SECRET, body as string) },
    remoteAddress,
  );

describe('content types', () => {
  test.each([
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'Application/JSON; Charset="utf-8"',
    'application/json; charset=utf8',
    'application/json; foo=bar',
    'application/vnd.extend+json; charset=utf-8',
  ])('%s is accepted', async (contentType) => {
    const { text } = envelope(1);
    const res = await signed('erp', text, contentType);
    expect({ status: res.statusCode, body: res.json() }).toEqual({
      status: 202,
      body: expect.objectContaining({ accepted: 1 }),
    });
  });

  test.each([
    'application/json; charset=iso-8859-1',
    'application/json; charset=utf-16',
    'application/vnd.extend+json; charset=windows-1252',
  ])('%s is 415 naming the charset, nothing started', async (contentType) => {
    const { text, notificationId } = envelope(1);
    const res = await signed('erp', text, contentType);
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: 'unsupported_media_type', message: expect.stringMatching(/charset .* UTF-8/) });
    await expect(
      h.client.workflow.getHandle(inboundWorkflowId('erp', `${notificationId}-0`)).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('a UTF-8 byte order mark before the JSON is accepted; the signature is over the bytes as sent', async () => {
    const { text } = envelope(1);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const ok = await postRaw('erp', withBom, {
      'content-type': 'application/json; charset=utf-8',
      'ms-signature': sign.ms(SECRET, withBom as unknown as string),
    });
    expect(ok.statusCode).toBe(202);
    // Signed without the BOM, sent with it: not the bytes that were signed.
    const { text: other } = envelope(1);
    const bad = await postRaw('erp', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(other)]), {
      'content-type': 'application/json',
      'ms-signature': sign.ms(SECRET, other),
    });
    expect(bad.statusCode).toBe(401);
  });
});

describe('rate limits', () => {
  test('unauthenticated failures are limited per client address and never block the source', async () => {
    const attacker = '10.66.0.1';
    const { text } = envelope(1);
    for (let i = 0; i < 5; i++)
      expect(
        (await postRaw('victim', text, { 'content-type': 'application/json', 'ms-signature': 'sha256=00' }, attacker))
          .statusCode,
      ).toBe(401);
    for (let i = 0; i < 5; i++)
      expect((await postRaw('nope', text, { 'content-type': 'application/json' }, '10.66.0.2')).statusCode).toBe(404);
    // The attacker's address now gets 429 for failing requests; valid credentials from it are still served.
    const blocked = await postRaw(
      'victim',
      text,
      { 'content-type': 'application/json', 'ms-signature': 'sha256=00' },
      attacker,
    );
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await signed('victim', envelope(1).text, 'application/json', attacker)).statusCode).toBe(202);
    expect((await postRaw('nope', text, { 'content-type': 'application/json' }, '10.66.0.2')).statusCode).toBe(429);
    // The source itself, from its own address, is served as before.
    for (let i = 0; i < 3; i++)
      expect((await signed('victim', envelope(2).text, 'application/json', '10.1.0.1')).statusCode).toBe(202);
  });

  test("a source's limit counts the notifications of its authenticated requests only", async () => {
    // Failed requests from elsewhere do not count against "limited" (max 5 notifications a minute).
    for (let i = 0; i < 4; i++)
      expect(
        (
          await postRaw(
            'limited',
            envelope(1).text,
            { 'content-type': 'application/json', 'ms-signature': 'sha256=00' },
            '10.77.0.1',
          )
        ).statusCode,
      ).toBe(401);
    expect((await signed('limited', envelope(3).text, 'application/json', '10.2.0.1')).statusCode).toBe(202); // 3 of 5
    expect((await signed('limited', envelope(3).text, 'application/json', '10.2.0.2')).statusCode).toBe(202); // budget left: served, now 6
    const over = await signed('limited', envelope(1).text, 'application/json', '10.2.0.3');
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.json()).toEqual({
      error: 'rate_limited',
      message: expect.stringMatching(/"limited" is over its rate limit of 5 notifications/),
    });
    // Other sources are unaffected.
    expect((await signed('erp', envelope(1).text, 'application/json', '10.2.0.3')).statusCode).toBe(202);
  });
});

describe('large envelopes', () => {
  // Beyond splitAbove many times over; the fault suite sends 10,000 (test/faults/large-envelope.test.ts).
  const COUNT = 300;

  test(`${COUNT} notifications: one durable start, then every inbound workflow exists; a retry is idempotent`, async () => {
    const { text, notificationId } = envelope(COUNT);
    const res = await signed('bulk', text);
    expect(res.statusCode).toBe(202);
    const workflowId = envelopeWorkflowId('bulk', `${notificationId}-0`, COUNT);
    expect(res.json()).toEqual({ accepted: COUNT, events: [], envelope: { workflowId, duplicate: false } });

    const result = (await h.client.workflow.getHandle(workflowId).result()) as EnvelopeResult;
    expect(result).toEqual({ notifications: COUNT, started: COUNT, duplicates: 0, refused: [] });
    // The same ids and search attributes as a small request's.
    for (const i of [0, 1, 150, COUNT - 1]) {
      const description = await h.client.workflow
        .getHandle(inboundWorkflowId('bulk', `${notificationId}-${i}`))
        .describe();
      expect(description.typedSearchAttributes.get(SA.source)).toBe('bulk');
      expect(description.typedSearchAttributes.get(SA.entity)).toBe(`FD-${i}`);
    }
    // A source of its own (any visibility store can count by a search attribute).
    const query = `TaskQueue = '${h.config.temporal.taskQueue}' AND WorkflowType = 'inboundWorkflow' AND HookflowSource = 'bulk'`;
    await eventually(
      async () => (await h.client.workflow.count(query)).count === COUNT,
      `${COUNT} inbound workflows listed`,
      60_000,
    );

    // The source retries (Attempt 2, signed again): acknowledged as the same envelope, nothing new.
    const retry = await signed('bulk', envelope(COUNT, notificationId, 2).text);
    expect(retry.statusCode).toBe(202);
    expect(retry.json().envelope).toEqual({ workflowId, duplicate: true });
    expect((await h.client.workflow.count(query)).count).toBe(COUNT);
  });

  test('a small request whose notifications were already started by an envelope is all duplicates', async () => {
    const { text, notificationId } = envelope(SPLIT_ABOVE + 1);
    const res = await signed('erp', text);
    const workflowId = res.json().envelope.workflowId;
    await h.client.workflow.getHandle(workflowId).result();
    // The first SPLIT_ABOVE notifications again, as one small request: the same workflow ids, duplicates.
    const small = JSON.parse(text);
    small.Notifications = small.Notifications.slice(0, SPLIT_ABOVE);
    const again = await signed('erp', JSON.stringify(small));
    expect(again.statusCode).toBe(202);
    expect(again.json().events.every((e: { duplicate: boolean }) => e.duplicate)).toBe(true);
    expect(again.json().events[0].workflowId).toBe(inboundWorkflowId('erp', `${notificationId}-0`));
  });

  test('the split resumes from its heartbeat after a retry: what was recorded as done is not started again', async () => {
    // The activity itself, against the real server, as its retry would run: 30 of 50 recorded as done.
    const { text, notificationId } = envelope(50);
    const split = createSplitEnvelopeActivity({ config: h.config, client: h.client });
    const env = new MockActivityEnvironment({
      heartbeatDetails: { next: 30, started: 30, duplicates: 0, refused: [] },
    });
    const input = { sourceId: 'erp', receivedAt: new Date().toISOString(), notifications: 50 };
    const result = await env.run(split, input, new Uint8Array(gzipSync(text)));
    expect(result).toEqual({ notifications: 50, started: 50, duplicates: 0, refused: [] });
    await expect(
      h.client.workflow.getHandle(inboundWorkflowId('erp', `${notificationId}-29`)).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await h.client.workflow.getHandle(inboundWorkflowId('erp', `${notificationId}-30`)).describe();
    await h.client.workflow.getHandle(inboundWorkflowId('erp', `${notificationId}-49`)).describe();
  });

  test('more notifications than server.envelopes.maxNotifications: 413, nothing started', async () => {
    const { text, notificationId } = envelope(MAX_NOTIFICATIONS + 1);
    const res = await signed('erp', text);
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toMatch(/at most 3000/);
    await expect(
      h.client.workflow.getHandle(envelopeWorkflowId('erp', `${notificationId}-0`, MAX_NOTIFICATIONS + 1)).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(
      h.client.workflow.getHandle(inboundWorkflowId('erp', `${notificationId}-0`)).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});
