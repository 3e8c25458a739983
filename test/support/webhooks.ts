import { createHmac, randomUUID } from 'node:crypto';
import type { HookflowApp } from '../../src/api/app';

/** Independent signers for tests (not the code under test). */
export const sign = {
  ms: (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex').toUpperCase()}`,
  x: (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex'),
};

export function extendBody(notifications: Array<{ Action: string; Details: Record<string, unknown> }>, notificationId = randomUUID()) {
  return { Id: randomUUID().replace(/-/g, ''), Attempt: 1, Properties: { NotificationId: notificationId }, Notifications: notifications };
}

export async function post(app: HookflowApp, path: string, body: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: path, payload: body, headers: { 'content-type': 'application/json', ...headers } });
}
