import { request } from 'undici';
import { waitUntil } from './processes';

/** Creates a subscription through the admin API of a running API process, and waits until it is listed. */
export async function createSubscriptionOverHttp(
  apiUrl: string,
  token: string,
  fields: Record<string, unknown> & { id: string },
): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const res = await request(`${apiUrl}/api/subscriptions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: `Fault test ${fields.id}`, contactEmail: 'tech@example.com', ...fields }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`create subscription ${fields.id}: ${res.statusCode} ${text}`);
  // Fan-out finds subscriptions through visibility, which trails the create by a moment.
  await waitUntil(
    async () => {
      const list = await request(`${apiUrl}/api/subscriptions`, { headers });
      const body = (await list.body.json()) as { subscriptions: Array<{ id: string }> };
      return body.subscriptions.some((s) => s.id === fields.id);
    },
    `subscription ${fields.id} to be listed`,
    30_000,
  );
}
