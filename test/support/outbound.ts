import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Harness } from './harness';
import { ADMIN_TOKEN, eventually } from './harness';
import type { RecordedRequest } from './fake-http';

/** Calls the admin API with the admin token. */
export async function adminApi(h: Harness, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) {
  return h.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

let counter = 0;

/** Creates a subscription through the API and waits until fan-out can see it (visibility). */
export async function createSubscription(h: Harness, fields: Record<string, unknown>): Promise<string> {
  const id = (fields.id as string | undefined) ?? `sub-${Date.now().toString(36)}-${++counter}`;
  const res = await adminApi(h, 'POST', '/api/subscriptions', { name: `Test ${id}`, contactEmail: 'tech@example.com', ...fields, id });
  if (res.statusCode !== 201) throw new Error(`create subscription: ${res.statusCode} ${res.body}`);
  await eventually(async () => {
    const list = await adminApi(h, 'GET', '/api/subscriptions');
    return (list.json().subscriptions as Array<{ id: string }>).some((s) => s.id === id);
  }, `subscription ${id} to be listed`);
  return id;
}

export async function publish(h: Harness, body: Record<string, unknown>) {
  const res = await adminApi(h, 'POST', '/api/events', body);
  if (res.statusCode !== 202) throw new Error(`publish: ${res.statusCode} ${res.body}`);
  return res.json() as { eventId: string; workflowId: string; duplicate: boolean };
}

/** Independent verifiers of the three signature schemes, written from their specifications. */
export const verify = {
  ms(secret: string, request: RecordedRequest): boolean {
    const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex').toUpperCase()}`;
    return request.headers['ms-signature'] === expected;
  },
  x(secret: string, request: RecordedRequest): boolean {
    return request.headers['x-signature'] === createHmac('sha256', secret).update(request.body).digest('hex');
  },
  standard(secret: string, request: RecordedRequest): boolean {
    const id = String(request.headers['webhook-id']);
    const timestamp = String(request.headers['webhook-timestamp']);
    const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(request.body).digest();
    const given = String(request.headers['webhook-signature'] ?? '')
      .split(' ')
      .filter((part) => part.startsWith('v1,'))
      .map((part) => Buffer.from(part.slice(3), 'base64'));
    const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
    return fresh && given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
  },
};

export const json = (request: RecordedRequest) => JSON.parse(request.body.toString('utf8'));
