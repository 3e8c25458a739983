import { parseConfig } from '../../src/config/load';
import { knownEventTypes } from '../../src/sources';
import { automationApi } from '../../src/sources/automation-api';
import { extendCommerce } from '../../src/sources/extend-commerce';
import { ongoingWms } from '../../src/sources/ongoing-wms';
import type { SourceKind, WebhookRequest } from '../../src/sources/source-kind';
import { triggersMatch } from '../../src/shared/subscription';
import { createSubscriptionSchema, triggerSchema } from '../../src/subscriptions/schema';
import { triggerProblem } from '../../src/subscriptions/triggers';
import { parseCreate, parseUpdate, valuesOf } from '../../src/console/form';
import { publicView } from '../../src/subscriptions/seal';
import { AUTOMATION_EVENTS, EXTEND_NOTIFICATIONS, ONGOING_EXAMPLES, extendEnvelope } from '../support/published';

const request: WebhookRequest = { rawBody: Buffer.from('{}'), headers: {}, query: {}, receivedAt: new Date() };
const refusal = (trigger: string) => triggerSchema.safeParse(trigger).error?.issues.map((i) => i.message);
const allKnown = knownEventTypes().flatMap((k) => k.types);

/** The outbound type of a parsed notification, as toOutboundEvent names it. */
const outbound = (kind: SourceKind, body: unknown, config: unknown) =>
  kind.parse(body, request, config as never).map((n) => `${kind.kind}.${n.eventType}`);

describe('known event types', () => {
  test('one list per source kind, named as outbound events are (<kind>.<type>)', () => {
    expect(knownEventTypes().map((k) => k.kind)).toEqual(['extend-commerce', 'ongoing-wms', 'automation-api']);
    const extend = outbound(extendCommerce, extendEnvelope(), {});
    expect(extend).toHaveLength(EXTEND_NOTIFICATIONS.length);
    expect(new Set(knownEventTypes()[0]!.types)).toEqual(new Set(extend));
    const automation = AUTOMATION_EVENTS.flatMap((body) => outbound(automationApi, body, { dedupWindow: 60_000 }));
    expect(new Set(knownEventTypes()[2]!.types)).toEqual(new Set(automation));
    // Ongoing: the family page is the type of a body without webhookTemplate; it names the others itself.
    const ongoing = knownEventTypes()[1]!;
    expect(ongoing.open).toBe(true);
    for (const { page, body } of ONGOING_EXAMPLES) {
      const withoutTemplate = Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'webhookTemplate'));
      expect(outbound(ongoingWms, withoutTemplate, {})).toEqual([`ongoing-wms.${page}`]);
      expect(ongoing.types).toContain(`ongoing-wms.${page}`);
    }
  });

  test('every known type is a valid trigger, and its <kind>.* matches it', () => {
    for (const type of allKnown) {
      expect(refusal(type)).toBeUndefined();
      expect(triggersMatch([`${type.split('.')[0]}.*`], type)).toBe(true);
    }
    for (const { kind } of knownEventTypes()) expect(refusal(`${kind}.*`)).toBeUndefined();
  });

  test('a prefix that looks like a source is refused with the right one', () => {
    expect(refusal('extend.*')).toEqual(["unknown prefix 'extend': the Extend Commerce types are extend-commerce.*"]);
    expect(refusal('extend.PurchaseOrderDelivered')).toEqual([
      "unknown prefix 'extend': the Extend Commerce types are extend-commerce.*",
    ]);
    for (const [trigger, right] of [
      ['ongoing.*', 'ongoing-wms.*'],
      ['ongoing-wm.OrderPicked', 'ongoing-wms.*'],
      ['extendcommerce.OrderCreated', 'extend-commerce.*'],
      ['extnd.*', 'extend-commerce.*'],
      ['automation.OrderSigned', 'automation-api.*'],
      ['automation-apis.*', 'automation-api.*'],
    ] as const)
      expect(refusal(trigger)?.join()).toMatch(
        new RegExp(`^unknown prefix .*types are ${right.replace('.*', '\\.\\*')}$`),
      );
  });

  test("a source kind's prefix needs one of its known types; Ongoing's names are its own", () => {
    expect(refusal('extend-commerce.PurchaseOrderDelivered')?.join()).toMatch(
      /^no Extend Commerce event type is named 'PurchaseOrderDelivered': use extend-commerce\.\* or one of .*PurchaseDelivered/,
    );
    expect(refusal('extend-commerce.orderCreated')?.join()).toMatch(/did you mean extend-commerce\.OrderCreated\?/);
    expect(refusal('automation-api.OrderCancelled')?.join()).toMatch(/did you mean automation-api\.OrderCanceled\?/);
    expect(refusal('ongoing-wms.OrderPicked')).toBeUndefined();
  });

  test('other prefixes stay free: published events, hookflow and *', () => {
    for (const trigger of [
      'shop.paid',
      'shop.*',
      'hookflow.*',
      'hookflow.subscription.failing',
      '*',
      'erp.OrderCreated',
    ])
      expect(refusal(trigger)).toBeUndefined();
  });

  test('a configured source id is no prefix (checked where the sources are known)', () => {
    const sources = [{ id: 'erp', kind: 'extend-commerce' }];
    expect(triggerProblem('erp.OrderCreated', sources)).toBe(
      "'erp' is a source id, not a prefix: events are named by the source's kind; the Extend Commerce types are extend-commerce.*",
    );
    expect(triggerProblem('shop.paid', sources)).toBeUndefined();
    const yaml = (trigger: string) => `sources: [{ id: erp, kind: extend-commerce, secret: s }]
subscriptions: [{ id: s, name: s, contactEmail: s@example.com, url: "http://127.0.0.1:1/", triggers: ["${trigger}"] }]`;
    expect(() => parseConfig(yaml('erp.*'), {}, 'test config')).toThrow(/'erp' is a source id.*extend-commerce\.\*/);
    expect(parseConfig(yaml('extend-commerce.*'), {}, 'test config').subscriptions[0]!.triggers).toEqual([
      'extend-commerce.*',
    ]);
  });

  test('a subscription with refused triggers is refused as a whole', () => {
    const fields = { id: 'k', name: 'k', contactEmail: 'k@example.com', url: 'http://127.0.0.1:1/' };
    expect(
      createSubscriptionSchema.safeParse({ ...fields, triggers: ['extend-commerce.*', 'shop.paid'] }).success,
    ).toBe(true);
    const refused = createSubscriptionSchema.safeParse({ ...fields, triggers: ['shop.paid', 'extend.*'] });
    expect(refused.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['triggers.1', "unknown prefix 'extend': the Extend Commerce types are extend-commerce.*"],
    ]);
  });
});

describe('console form', () => {
  const form = {
    id: 'f',
    name: 'f',
    contactEmail: 'f@example.com',
    url: 'http://127.0.0.1:1/',
    retryPolicy: 'none',
    signature: 'ms-signature',
    'auth.type': 'none',
  };

  test('checked known types and free-text triggers make the list; the form shows them back the same way', () => {
    const parsed = parseCreate({
      ...form,
      'trigger:extend-commerce.OrderCreated': 'on',
      'trigger:automation-api.*': 'on',
      triggers: 'shop.*\nongoing-wms.OrderPicked\nshop.*',
    });
    expect(parsed.ok && parsed.input.triggers).toEqual([
      'extend-commerce.OrderCreated',
      'automation-api.*',
      'shop.*',
      'ongoing-wms.OrderPicked',
    ]);
    if (!parsed.ok) return;
    const values = valuesOf(publicView({ ...parsed.input, secret: undefined } as never));
    expect(values['trigger:extend-commerce.OrderCreated']).toBe('on');
    expect(values['trigger:automation-api.*']).toBe('on');
    expect(values.triggers).toBe('shop.*\nongoing-wms.OrderPicked');
    // Saved again unchanged: the same triggers in the order they were stored in.
    const stored = publicView({ ...parsed.input, triggers: ['shop.*', 'extend-commerce.OrderCreated'] } as never);
    const again = parseUpdate({ ...valuesOf(stored), connectionTimeout: 'PT30S' }, stored);
    expect(again.ok && again.input.triggers).toEqual(['shop.*', 'extend-commerce.OrderCreated']);
  });

  test('a refused trigger is said in words under the triggers field', () => {
    const parsed = parseCreate({ ...form, triggers: 'extend.*' });
    expect(parsed).toEqual({
      ok: false,
      errors: { triggers: "unknown prefix 'extend': the Extend Commerce types are extend-commerce.*" },
    });
    const sourceId = parseCreate({ ...form, triggers: 'erp.*' }, [{ id: 'erp', kind: 'extend-commerce' }]);
    expect(sourceId.ok ? null : sourceId.errors.triggers).toMatch(/^'erp' is a source id.*extend-commerce\.\*$/);
  });
});
