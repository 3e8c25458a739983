import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi } from '../support/outbound';
import { erpSourceYaml } from '../support/webhooks';
import { consoleSession, csrfOf, FORM } from '../support/console-session';

/**
 * Triggers are checked against the known event types of each source kind, through the admin API and the
 * console's form (app.inject against a real dev server and worker).
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness(testConfig(`sources:\n${erpSourceYaml('s', 'http://127.0.0.1:9')}`));
});
afterAll(async () => {
  await h?.stop();
});

const fields = () => ({
  id: `kt-${randomUUID().slice(0, 8)}`,
  name: 'Known types',
  contactEmail: 'ops@example.com',
  url: 'http://127.0.0.1:9/hook',
});

describe('admin API', () => {
  test("a trigger with a source's wrong prefix is a 400 that names the right one", async () => {
    const res = await adminApi(h, 'POST', '/api/subscriptions', { ...fields(), triggers: ['shop.paid', 'extend.*'] });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { message: string; details: Array<{ path: string; message: string }> };
    expect(body.message).toContain("unknown prefix 'extend': the Extend Commerce types are extend-commerce.*");
    expect(body.details).toContainEqual({
      path: '/triggers/1',
      message: "unknown prefix 'extend': the Extend Commerce types are extend-commerce.*",
    });
  });

  test('a configured source id is no prefix; a PATCH is checked the same way', async () => {
    const created = await adminApi(h, 'POST', '/api/subscriptions', { ...fields(), triggers: ['erp.OrderCreated'] });
    expect(created.statusCode).toBe(400);
    expect(created.json().message).toMatch(/'erp' is a source id.*extend-commerce\.\*/);

    const good = fields();
    const ok = await adminApi(h, 'POST', '/api/subscriptions', {
      ...good,
      triggers: ['extend-commerce.OrderCreated', 'shop.*', 'hookflow.*'],
    });
    expect(ok.statusCode).toBe(201);
    const patched = await adminApi(h, 'PATCH', `/api/subscriptions/${good.id}`, {
      triggers: ['extend-commerce.PurchaseOrderDelivered'],
    });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().message).toMatch(/no Extend Commerce event type is named 'PurchaseOrderDelivered'/);
  });
});

describe('console form', () => {
  const { cookie, keep, get, post: postForm } = consoleSession(() => h.app);
  const form = (id: string) => ({
    ...fields(),
    id,
    active: 'on',
    retryPolicy: 'none',
    signature: 'ms-signature',
    'auth.type': 'none',
    connectionTimeout: 'PT5S',
    'tls.verify': 'on',
  });

  beforeAll(async () => {
    const login = await get('/console/login');
    const res = await h.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { ...FORM, cookie: cookie() },
      payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrfOf(login.body) }).toString(),
    });
    keep(res.headers['set-cookie']);
  });

  test('offers the known types of each source, and the hint names prefixes that match', async () => {
    const page = await get('/console/subscriptions/new');
    expect(page.statusCode).toBe(200);
    for (const name of [
      'trigger:extend-commerce.*',
      'trigger:extend-commerce.PurchaseDelivered',
      'trigger:ongoing-wms.order',
      'trigger:automation-api.OrderSigned',
    ])
      expect(page.body).toContain(`name="${name}"`);
    expect(page.body).toContain('<summary>Extend Commerce');
    expect(page.body).not.toContain('extend.PurchaseOrderDelivered');
  });

  test('a refused trigger is shown in words under its field; chosen types are saved and shown checked', async () => {
    const refused = await postForm('/console/subscriptions', { ...form('kt-form-bad'), triggers: 'extend.*' });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(
      /<p class="error" id="triggers-error">unknown prefix &#39;extend&#39;: the Extend Commerce types are extend-commerce.\*<\/p>/,
    );
    expect(refused.body).toContain('extend.*</textarea>'); // what was typed is kept

    const id = `kt-form-${randomUUID().slice(0, 6)}`;
    const created = await postForm('/console/subscriptions', {
      ...form(id),
      'trigger:extend-commerce.PurchaseDelivered': 'on',
      triggers: 'shop.*',
    });
    expect(created.statusCode).toBe(303);
    const stored = await adminApi(h, 'GET', `/api/subscriptions/${id}`);
    expect(stored.json().triggers).toEqual(['extend-commerce.PurchaseDelivered', 'shop.*']);
    const edit = await get(`/console/subscriptions/${id}`);
    expect(edit.body).toMatch(/name="trigger:extend-commerce.PurchaseDelivered" checked/);
    expect(edit.body).toContain('shop.*</textarea>');
  });
});
