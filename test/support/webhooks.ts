import { randomUUID } from 'node:crypto';
import type { HookflowApp } from '../../src/api/app';

export { sign } from './signatures';

/** The `erp` Extend source (a `sources:` item) whose OrderCreated events are fetched from `<sourceApiUrl>/orders/<OrderNumber>`. */
export function erpSourceYaml(secret: string, sourceApiUrl: string): string {
  return `  - { id: erp, kind: extend-commerce, secret: ${secret}, followUp: { urls: { OrderCreated: "${sourceApiUrl}/orders/{OrderNumber}" } } }`;
}

export function extendBody(
  notifications: Array<{ Action: string; Details: Record<string, unknown> }>,
  notificationId = randomUUID(),
) {
  return {
    Id: randomUUID().replace(/-/g, ''),
    Attempt: 1,
    Properties: { NotificationId: notificationId },
    Notifications: notifications,
  };
}

export async function post(app: HookflowApp, path: string, body: string, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: path,
    payload: body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
