import { createHmac } from 'node:crypto';
import { parseConfig } from '../../src/config/load';
import { signRequest } from '../../src/delivery/sign-request';
import { keyringFromConfig } from '../../src/security/keyring';
import { isSealed } from '../../src/security/sealed';
import { promotionPatch, rotationSwitchAt, signingSecrets } from '../../src/shared/secret-rotation';
import type { OutboundEvent } from '../../src/shared/delivery';
import type { Subscription } from '../../src/shared/subscription';
import { basicAuthHeader } from '../../src/signing/credentials';
import { signMsSignature } from '../../src/signing/ms-signature';
import { signStandardWebhook, verifyStandardWebhook } from '../../src/signing/standard-webhooks';
import { signXSignature } from '../../src/signing/x-signature';
import type { SourceOf } from '../../src/sources';
import { automationApi } from '../../src/sources/automation-api';
import { extendCommerce } from '../../src/sources/extend-commerce';
import { ongoingWms } from '../../src/sources/ongoing-wms';
import { matchSecret } from '../../src/sources/source-config';
import type { WebhookRequest } from '../../src/sources/source-kind';
import { createSubscriptionSchema, updateSubscriptionSchema } from '../../src/subscriptions/schema';
import { publicView, toPatch } from '../../src/subscriptions/seal';

const NOW = new Date('2026-12-05T12:00:00Z');
const source = <K extends 'extend-commerce' | 'ongoing-wms' | 'automation-api'>(yaml: string) =>
  parseConfig(`sources: [${yaml}]`, {}).sources[0] as SourceOf<K>;
const request = (headers: Record<string, string> = {}, query: Record<string, string> = {}): WebhookRequest => ({
  rawBody: Buffer.from('{"a":1}'),
  headers,
  query,
  receivedAt: NOW,
});

describe('secret lists in the config file', () => {
  test('a single value is a list of one, labelled current', () => {
    expect(source<'extend-commerce'>('{ id: erp, kind: extend-commerce, secret: s }').secret).toEqual([
      { value: 's', label: 'current' },
    ]);
  });

  test('a list: current, previous, previous-<n>; names and notAfter as given', () => {
    const config = source<'extend-commerce'>(
      '{ id: erp, kind: extend-commerce, secret: [a, { value: b, notAfter: "2026-12-06T00:00:00+01:00" }, c, { value: d, name: old-2025 }] }',
    );
    expect(config.secret).toEqual([
      { value: 'a', label: 'current' },
      { value: 'b', label: 'previous', notAfterMs: Date.parse('2026-12-05T23:00:00Z') },
      { value: 'c', label: 'previous-2' },
      { value: 'd', label: 'old-2025' },
    ]);
  });

  test.each([
    ['an empty list', '[]', /sources\[0\]\.secret/],
    ['more than five', '[a, b, c, d, e, f]', /sources\[0\]\.secret/],
    ['a duplicate name', '[{ value: a, name: x }, { value: b, name: x }]', /duplicate name "x"/],
    ['a time without a zone', '[{ value: a, notAfter: "2026-12-06T00:00:00" }]', /notAfter/],
    ['an empty value', '[""]', /sources\[0\]\.secret/],
    ['an unknown field', '[{ value: a, until: x }]', /sources\[0\]\.secret/],
  ])('refuses %s', (_what, list, message) => {
    expect(() => source(`{ id: erp, kind: extend-commerce, secret: ${list} }`)).toThrow(message);
  });

  test('Ongoing passwords and tokens, the Automation API key and secret take lists too', () => {
    const basic = source<'ongoing-wms'>(
      '{ id: o, kind: ongoing-wms, auth: { type: basic, username: u, password: [p1, p2] } }',
    );
    expect(basic.auth).toMatchObject({ password: [{ value: 'p1' }, { value: 'p2', label: 'previous' }] });
    const esign = source<'automation-api'>('{ id: e, kind: automation-api, key: k, secret: [s1, s2] }');
    expect(esign.key).toEqual([{ value: 'k', label: 'current' }]);
    expect(esign.secret).toHaveLength(2);
  });
});

describe('verification against a list', () => {
  test('matchSecret checks every valid entry and skips expired ones', () => {
    const checked: string[] = [];
    const entries = [
      { value: 'a', label: 'current' },
      { value: 'b', label: 'previous', notAfterMs: NOW.getTime() },
      { value: 'c', label: 'previous-2', notAfterMs: NOW.getTime() + 1 },
    ];
    const check = (value: string) => (checked.push(value), value !== 'x');
    expect(matchSecret(entries, NOW.getTime(), check)).toBe('current');
    expect(checked).toEqual(['a', 'c']); // all valid ones, even after a match; not the expired one
    expect(matchSecret(entries, NOW.getTime(), (value) => value === 'b')).toBeUndefined();
    expect(matchSecret(entries, NOW.getTime(), (value) => value === 'c')).toBe('previous-2');
  });

  test('Extend: the current or the previous secret; an expired previous one is refused', () => {
    const config = source<'extend-commerce'>(
      '{ id: erp, kind: extend-commerce, secret: [new, { value: old, notAfter: "2026-12-05T12:00:00Z" }] }',
    );
    const signed = (secret: string) => request({ 'ms-signature': signMsSignature(secret, '{"a":1}') });
    expect(extendCommerce.verify(signed('new'), config)).toEqual({ secret: 'current' });
    expect(extendCommerce.verify(signed('old'), config)).toEqual({ refused: 'ms-signature does not match the body' });
    const before = { ...signed('old'), receivedAt: new Date(NOW.getTime() - 1) };
    expect(extendCommerce.verify(before, config)).toEqual({ secret: 'previous' });
  });

  test('Ongoing: Basic password and X-Auth-Token lists', () => {
    const basic = source<'ongoing-wms'>(
      '{ id: o, kind: ongoing-wms, auth: { type: basic, username: u, password: [p1, p2] } }',
    );
    expect(ongoingWms.verify(request({ authorization: basicAuthHeader('u', 'p2') }), basic)).toEqual({
      secret: 'previous',
    });
    expect(ongoingWms.verify(request({ authorization: basicAuthHeader('v', 'p2') }), basic)).toHaveProperty('refused');
    const token = source<'ongoing-wms'>('{ id: o, kind: ongoing-wms, auth: { type: x-auth-token, token: [t1, t2] } }');
    expect(ongoingWms.verify(request({ 'x-auth-token': 't1' }), token)).toEqual({ secret: 'current' });
    const none = source<'ongoing-wms'>('{ id: o, kind: ongoing-wms, auth: { type: none } }');
    expect(ongoingWms.verify(request(), none)).toEqual({ secret: 'none' });
  });

  test('Automation API: the label names the key and the secret that matched', () => {
    const both = source<'automation-api'>('{ id: e, kind: automation-api, key: [k1, k2], secret: [s1, s2] }');
    const headers = { 'x-signature': signXSignature('s1', '{"a":1}') };
    expect(automationApi.verify(request(headers, { key: 'k2' }), both)).toEqual({
      secret: 'key:previous,secret:current',
    });
    expect(automationApi.verify(request(headers, { key: 'k3' }), both)).toHaveProperty('refused');
    const keyOnly = source<'automation-api'>('{ id: e, kind: automation-api, key: [k1, k2] }');
    expect(automationApi.verify(request({}, { key: 'k2' }), keyOnly)).toEqual({ secret: 'previous' });
  });
});

describe('the multi-signature header', () => {
  const body = '{"type":"shop.OrderPaid"}';
  const raw = (secret: string) =>
    createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
      .update(`msg_1.1700000000.${body}`)
      .digest('base64');

  test('one `v1,<signature>` per secret, space-separated, in order', () => {
    const [oldSecret, newSecret] = ['whsec_b2xkLXNlY3JldC1rZXk=', 'whsec_bmV3LXNlY3JldC1rZXk='];
    const header = signStandardWebhook([oldSecret, newSecret], 'msg_1', 1700000000, body);
    expect(header).toBe(`v1,${raw(oldSecret)} v1,${raw(newSecret)}`);
    expect(signStandardWebhook(oldSecret, 'msg_1', 1700000000, body)).toBe(`v1,${raw(oldSecret)}`);
    for (const secret of [oldSecret, newSecret])
      expect(verifyStandardWebhook(secret, 'msg_1', 1700000000, body, header)).toBe(true);
    expect(verifyStandardWebhook('whsec_b3RoZXI=', 'msg_1', 1700000000, body, header)).toBe(false);
    expect(verifyStandardWebhook(oldSecret, 'msg_1', 1700000001, body, header)).toBe(false);
    expect(verifyStandardWebhook(oldSecret, 'msg_1', 1700000000, body, `v2,${raw(oldSecret)}`)).toBe(false);
  });

  test('which secrets sign: before, during and after the switch, per scheme', () => {
    const at = 1000;
    expect(signingSecrets('standard-webhooks', 'old', undefined, undefined, 0)).toEqual(['old']);
    expect(signingSecrets('standard-webhooks', 'old', 'new', at, at - 1)).toEqual(['old', 'new']);
    expect(signingSecrets('standard-webhooks', 'old', 'new', at, at)).toEqual(['new']);
    expect(signingSecrets('ms-signature', 'old', 'new', at, at - 1)).toEqual(['old']);
    expect(signingSecrets('x-signature', 'old', 'new', at, at)).toEqual(['new']);
    expect(signingSecrets('ms-signature', undefined, undefined, undefined, 0)).toEqual([]);
  });

  test('the switch time: overlapUntil for Standard Webhooks, rotateAt for the others, each falling back', () => {
    const rotation = { nextSecret: 'sealed:v1:k:x', overlapUntil: '2026-12-05T10:00:00.000Z', rotateAt: undefined };
    expect(rotationSwitchAt({ ...rotation, signature: 'standard-webhooks' })).toBe(Date.parse(rotation.overlapUntil));
    expect(rotationSwitchAt({ ...rotation, signature: 'ms-signature' })).toBe(Date.parse(rotation.overlapUntil));
    const both = { ...rotation, rotateAt: '2026-12-05T11:00:00.000Z' };
    expect(rotationSwitchAt({ ...both, signature: 'x-signature' })).toBe(Date.parse(both.rotateAt));
    expect(rotationSwitchAt({ ...both, signature: 'standard-webhooks', nextSecret: undefined })).toBeUndefined();
    expect(promotionPatch({ ...both, signature: 'x-signature' })).toEqual({
      secret: rotation.nextSecret,
      nextSecret: null,
      overlapUntil: null,
      rotateAt: null,
    });
  });

  test('signRequest puts both signatures in the header during the overlap', () => {
    const event = { id: 'e1', uuid: 'msg_1', type: 'shop.OrderPaid' } as OutboundEvent;
    const credentials = {
      secret: 'whsec_b2xk',
      nextSecret: 'whsec_bmV3',
      switchAtMs: 2_000_000,
      auth: { type: 'none' as const },
    };
    const during = signRequest('http://r/x', event, 'standard-webhooks', body, credentials, 1, 1_000_000);
    expect(during.headers['webhook-signature']).toBe(
      signStandardWebhook(['whsec_b2xk', 'whsec_bmV3'], 'msg_1', 1000, body),
    );
    const after = signRequest('http://r/x', event, 'standard-webhooks', body, credentials, 1, 2_000_000);
    expect(after.headers['webhook-signature']).toBe(signStandardWebhook('whsec_bmV3', 'msg_1', 2000, body));
    const ms = signRequest('http://r/x', event, 'ms-signature', body, credentials, 1, 1_000_000);
    expect(ms.headers['ms-signature']).toBe(signMsSignature('whsec_b2xk', body));
  });
});

describe('the next secret of a subscription', () => {
  const keyring = keyringFromConfig([{ id: 'k1', key: Buffer.alloc(32, 7).toString('base64') }]);
  const base = {
    id: 's1',
    name: 'S',
    contactEmail: 'a@example.com',
    url: 'https://example.com/hook',
    triggers: ['*'],
    signature: 'standard-webhooks',
    secret: 'old-secret',
  };

  test('needs a time; is sealed when stored and masked when shown', () => {
    expect(createSubscriptionSchema.safeParse({ ...base, nextSecret: 'new-secret' }).success).toBe(false);
    expect(updateSubscriptionSchema.safeParse({ nextSecret: 'new-secret' }).success).toBe(false);
    expect(updateSubscriptionSchema.safeParse({ nextSecret: null, overlapUntil: null }).success).toBe(true);
    const input = updateSubscriptionSchema.parse({
      nextSecret: 'new-secret',
      overlapUntil: '2026-12-06T01:00:00+01:00',
    });
    expect(input.overlapUntil).toBe('2026-12-06T00:00:00.000Z');
    const patch = toPatch(input, keyring);
    expect(isSealed(patch.nextSecret!)).toBe(true);
    const stored = { ...toPatch(createSubscriptionSchema.parse(base), keyring), ...patch } as unknown as Subscription;
    const view = publicView({ ...stored, createdAt: '', updatedAt: '' });
    expect(JSON.stringify(view)).not.toMatch(/new-secret|old-secret|sealed:/);
    expect(view).toMatchObject({ nextSecret: '********', switchAt: '2026-12-06T00:00:00.000Z' });
  });
});
