import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { InjectOptions } from 'fastify';
import { inboundWorkflowId } from '../../src/shared/inbound';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { FakeHttpPeer } from '../support/fake-http';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription } from '../support/outbound';
import { sign } from '../support/signatures';
import { trickle as trickleClient } from '../support/trickle';

/**
 * A corpus of hostile and broken requests against the front door, for every source kind. Each must be
 * answered with a 4xx (the obvious one where there is one), never a 5xx: a 5xx tells the source to
 * retry a request that can never succeed. Nothing may be started for a rejected request, and the
 * process must still answer afterwards. A second, smaller corpus is odd but arguably valid input: each
 * case has the one status hookflow answers by design (mostly 202; a few refused with a 400 that says why),
 * never a 5xx, and what is accepted must be deliverable.
 */

const EXTEND_SECRET = 'bad-input-extend-secret';
const WMS_USER = 'ongoing';
const WMS_PASS = 'wms-pass-123';
const WMS_TOKEN = 'wms-token-456';
const AUTOMATION_SECRET = 'automation-secret-789';
const AUTOMATION_KEY = 'install-key-7';
const RECEIVER_SECRET = 'bad-input-receiver-secret';
const MAX_NOTIFICATIONS = 5000;

let h: Harness;
let receiver: FakeHttpPeer;
let subscriptionId: string;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
metrics: { workerPort: 0 }
# Short retries and window: an accepted event that cannot be delivered fails within the test, visibly.
delivery: { oneDay: { initialInterval: PT0.2S, maximumInterval: PT1S, window: PT15S } }
# A notification maximum a test body can exceed while under the body limit, and short
# header/request timeouts for the slow-client cases (a real socket; every other case uses inject).
server: { envelopes: { maxNotifications: ${MAX_NOTIFICATIONS} }, headersTimeout: PT1S, requestTimeout: PT2S }
sources:
  - { id: erp, kind: extend-commerce, secret: ${EXTEND_SECRET} }
  - { id: wms, kind: ongoing-wms, auth: { type: basic, username: ${WMS_USER}, password: ${WMS_PASS} } }
  - { id: wms-token, kind: ongoing-wms, auth: { type: x-auth-token, token: ${WMS_TOKEN} } }
  - { id: esign, kind: automation-api, secret: ${AUTOMATION_SECRET}, key: ${AUTOMATION_KEY} }
`),
  );
  subscriptionId = await createSubscription(h, {
    url: `${receiver.url}/hook`,
    secret: RECEIVER_SECRET,
    triggers: ['extend-commerce.*', 'ongoing-wms.*', 'automation-api.*'],
    retryPolicy: 'one-day',
    signature: 'x-signature',
  });
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

// ---------------------------------------------------------------------------------------------------
// Building requests

const hmacHex = sign.x;
const msSignature = (body: string | Buffer, secret = EXTEND_SECRET) => sign.ms(secret, body);
const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
const JSON_TYPE = { 'content-type': 'application/json' };

type Headers = Record<string, string | string[]>;

interface Case {
  name: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Headers;
  payload?: string | Buffer;
  /** The expected status where one is obvious; otherwise any 4xx. */
  status?: number | readonly number[];
  /** The inbound workflow the request names, had it been accepted: it must not exist. */
  workflowId?: string;
  /** Client address; by default each request has its own (failures are limited per address). */
  remoteAddress?: string;
}

/** An Extend envelope with a fresh NotificationId, so a wrongly started workflow can be looked up. */
function extendEnvelope(
  notifications: unknown = [{ Action: 'OrderCreated', Details: { OrderNumber: 'SO-1', Warehouse: 'W1' } }],
  extra: Record<string, unknown> = {},
) {
  const notificationId = randomUUID();
  const body = JSON.stringify({
    Id: notificationId.replace(/-/g, ''),
    Attempt: 1,
    Properties: { NotificationId: notificationId },
    Notifications: notifications,
    ...extra,
  });
  return { body, workflowId: inboundWorkflowId('erp', `${notificationId}-0`) };
}

/** A correctly signed Extend request: the credentials pass, so what is tested is what comes after. */
function extendSigned(name: string, payload: string | Buffer, status?: Case['status'], headers: Headers = {}): Case {
  return {
    name: `extend: ${name}`,
    url: '/webhooks/erp',
    payload,
    headers: { ...JSON_TYPE, 'ms-signature': msSignature(payload), ...headers },
    status,
  };
}

/** A schema violation in a correctly signed, well-formed Extend body. */
function extendSchema(name: string, notifications: unknown, extra: Record<string, unknown> = {}): Case {
  const { body, workflowId } = extendEnvelope(notifications, extra);
  return { ...extendSigned(`schema: ${name}`, body, 400), workflowId };
}

/** A valid Extend body with the given signature headers (or none). */
function extendAuth(name: string, headers: (body: string) => Headers): Case {
  const { body, workflowId } = extendEnvelope();
  return {
    name: `extend: auth: ${name}`,
    url: '/webhooks/erp',
    payload: body,
    headers: { ...JSON_TYPE, ...headers(body) },
    status: 401,
    workflowId,
  };
}

function ongoingBody(extra: Record<string, unknown> = {}) {
  const webhookEventId = Math.floor(Math.random() * 1e9);
  const body = JSON.stringify({
    webhookEventId,
    webhookTemplate: 'OrderPicked',
    goodsOwnerId: 162,
    orderId: 5,
    orderNumber: 'SO-5',
    ...extra,
  });
  return { body, webhookEventId, workflowId: (source: string) => inboundWorkflowId(source, String(webhookEventId)) };
}

function ongoingAuth(name: string, source: 'wms' | 'wms-token', headers: Headers): Case {
  const { body, workflowId } = ongoingBody();
  return {
    name: `${source}: auth: ${name}`,
    url: `/webhooks/${source}`,
    payload: body,
    headers: { ...JSON_TYPE, ...headers },
    status: 401,
    workflowId: workflowId(source),
  };
}

function ongoingSchema(name: string, body: string, status = 400): Case {
  return {
    name: `wms: ${name}`,
    url: '/webhooks/wms',
    payload: body,
    headers: { ...JSON_TYPE, authorization: basic(`${WMS_USER}:${WMS_PASS}`) },
    status,
  };
}

function automationBody(extra: Record<string, unknown> = {}) {
  const orderId = randomUUID();
  const body = JSON.stringify({ orderId, eventType: 'OrderAccepted', ...extra });
  return { body, workflowId: inboundWorkflowId('esign', `${orderId}/OrderAccepted`) };
}

function automation(
  name: string,
  query: string,
  signature: ((body: string) => string) | undefined,
  status: number | undefined,
  bodyExtra: Record<string, unknown> = {},
): Case {
  const { body, workflowId } = automationBody(bodyExtra);
  return {
    name: `esign: ${name}`,
    url: `/webhooks/esign${query}`,
    payload: body,
    headers: { ...JSON_TYPE, ...(signature ? { 'x-signature': signature(body) } : {}) },
    status,
    // Refused credentials leave the body intact, so the workflow it would have started is known.
    workflowId: status === 401 ? workflowId : undefined,
  };
}
const goodX = (body: string) => hmacHex(AUTOMATION_SECRET, body);
const KEY = `?key=${AUTOMATION_KEY}`;

function nestedArrays(depth: number, inner = '1'): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

const BODY_LIMIT = 1024 * 1024; // the default server.bodyLimitBytes, which this config keeps

// ---------------------------------------------------------------------------------------------------
// The corpus of bad requests: each must get a 4xx

const valid = extendEnvelope();
const REJECTED: Case[] = [
  // Malformed and truncated JSON, signed correctly (so they pass authentication and reach the parser).
  extendSigned('single-quoted JSON', "{'test':'test2'}", 400),
  extendSigned('trailing comma', '{"Id":"a","Notifications":[],}', 400),
  extendSigned('unquoted key', '{Id:"a"}', 400),
  extendSigned('NaN literal', '{"Id":NaN}', 400),
  extendSigned('comment', '// hello\n{"Id":"a"}', 400),
  extendSigned('garbage after the document', `${valid.body} trailing`, 400),
  extendSigned('two documents', `${valid.body}${valid.body}`, 400),
  extendSigned('truncated in the middle', valid.body.slice(0, Math.floor(valid.body.length / 2)), 400),
  extendSigned('truncated by one byte', valid.body.slice(0, -1), 400),
  extendSigned('a lone quote', '"', 400),
  extendSigned('empty body', '', 400),
  extendSigned('whitespace only', '  \n\t ', 400),
  extendSigned('null', 'null', 400),
  extendSigned('an array', '[]', 400),
  extendSigned('a string', '"OrderCreated"', 400),
  extendSigned('a number', '42', 400),
  extendSigned('a number that overflows to Infinity', '1e999999', 400),
  extendSigned('true', 'true', 400),
  extendSigned(
    'invalid UTF-8 outside strings',
    Buffer.concat([Buffer.from('{"Id":"a",'), Buffer.from([0xff, 0xfe]), Buffer.from('}')]),
    400,
  ),

  // Well-formed JSON that violates Extend's envelope.
  extendSchema('Notifications empty', []),
  extendSchema('Notifications an object', { Action: 'OrderCreated', Details: { OrderNumber: '1' } }),
  extendSchema('Notifications null', null),
  extendSchema('Id a number', [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }], { Id: 12 }),
  extendSchema('Id empty', [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }], { Id: '' }),
  extendSchema('Action empty', [{ Action: '', Details: { OrderNumber: '1' } }]),
  extendSchema('Action missing', [{ Details: { OrderNumber: '1' } }]),
  extendSchema('Action a number', [{ Action: 7, Details: { OrderNumber: '1' } }]),
  extendSchema('Details missing', [{ Action: 'OrderCreated' }]),
  extendSchema('Details an array', [{ Action: 'OrderCreated', Details: ['1'] }]),
  extendSchema('Details null', [{ Action: 'OrderCreated', Details: null }]),
  extendSchema('OrderCreated without OrderNumber', [{ Action: 'OrderCreated', Details: { Warehouse: 'W1' } }]),
  extendSchema('OrderNumber an object', [{ Action: 'OrderCreated', Details: { OrderNumber: { $gt: '' } } }]),
  extendSchema('OrderNumber empty', [{ Action: 'OrderCreated', Details: { OrderNumber: '' } }]),
  extendSchema('AvailableBalance a string', [
    { Action: 'AvailableBalanceChanged', Details: { ProductNumber: 'P1', Warehouse: 'W1', AvailableBalance: 'ten' } },
  ]),
  extendSchema('PickingStarted without Order', [{ Action: 'PickingStarted', Details: { OrderNumber: '1' } }]),
  extendSchema('Attempt negative', [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }], { Attempt: -1 }),
  extendSchema('Attempt fractional', [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }], { Attempt: 1.5 }),
  extendSchema('Attempt a string', [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }], { Attempt: '1' }),
  extendSchema('Properties a string', [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }], { Properties: 'x' }),
  extendSchema('one good and one bad notification', [
    { Action: 'OrderCreated', Details: { OrderNumber: '1' } },
    { Action: 'OrderCreated', Details: {} },
  ]),

  // Deep nesting where an object is expected.
  extendSigned('10,000 nested arrays as the body', nestedArrays(10_000), 400),
  extendSigned('10,000 nested arrays as Notifications', `{"Id":"a","Notifications":${nestedArrays(10_000)}}`, 400),
  extendSigned('10,000 nested objects as the body', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, 400),

  // Credentials (Extend: ms-signature over the exact body bytes).
  extendAuth('wrong secret', (body) => ({ 'ms-signature': msSignature(body, 'not-the-secret') })),
  extendAuth('no signature', () => ({})),
  extendAuth('signature over a different body', () => ({ 'ms-signature': msSignature('{}') })),
  extendAuth('signature without sha256=', (body) => ({ 'ms-signature': hmacHex(EXTEND_SECRET, body).toUpperCase() })),
  extendAuth('sha1= prefix', (body) => ({ 'ms-signature': `sha1=${hmacHex(EXTEND_SECRET, body)}` })),
  extendAuth('sha256= and nothing', () => ({ 'ms-signature': 'sha256=' })),
  extendAuth('non-hex digest', () => ({ 'ms-signature': `sha256=${'Z'.repeat(64)}` })),
  extendAuth('truncated digest', (body) => ({ 'ms-signature': msSignature(body).slice(0, 40) })),
  extendAuth('digest with trailing garbage', (body) => ({ 'ms-signature': `${msSignature(body)}00` })),
  extendAuth('two ms-signature headers, good then bogus', (body) => ({
    'ms-signature': [msSignature(body), 'sha256=00'],
  })),
  extendAuth('two ms-signature headers, bogus then good', (body) => ({
    'ms-signature': ['sha256=00', msSignature(body)],
  })),
  extendAuth('signature in X-Signature instead', (body) => ({ 'x-signature': msSignature(body) })),
  (() => {
    const { body, workflowId } = extendEnvelope();
    return {
      name: 'extend: auth: body changed after signing (a trailing newline)',
      url: '/webhooks/erp',
      payload: `${body}\n`,
      headers: { ...JSON_TYPE, 'ms-signature': msSignature(body) },
      status: 401,
      workflowId,
    };
  })(),

  // Size: over server.bodyLimitBytes is 413, before credentials are even looked at.
  extendSigned('body one byte over the limit', `{"Id":"${'x'.repeat(BODY_LIMIT - 8)}"}`, 413),
  extendSigned('5 MiB body', `{"Id":"${'x'.repeat(5 * BODY_LIMIT)}"}`, 413),
  {
    name: 'extend: 2 MiB unsigned body',
    url: '/webhooks/erp',
    payload: 'x'.repeat(2 * BODY_LIMIT),
    headers: JSON_TYPE,
    status: 413,
  },

  // Content types: only JSON (application/json, application/*+json) is parsed.
  extendSigned('text/plain', valid.body, 415, { 'content-type': 'text/plain' }),
  extendSigned('form-urlencoded', valid.body, 415, { 'content-type': 'application/x-www-form-urlencoded' }),
  extendSigned('multipart', valid.body, 415, { 'content-type': 'multipart/form-data; boundary=xyz' }),
  extendSigned('application/xml', valid.body, 415, { 'content-type': 'application/xml' }),
  extendSigned('application/jsonp', valid.body, 415, { 'content-type': 'application/jsonp' }),
  {
    name: 'extend: no content type',
    url: '/webhooks/erp',
    payload: valid.body,
    headers: { 'ms-signature': msSignature(valid.body) },
    status: 415,
  },

  // Unknown sources, path traversal and odd paths: 404 before anything else.
  { name: 'unknown source', url: '/webhooks/nope', payload: valid.body, headers: JSON_TYPE, status: 404 },
  {
    name: 'path traversal ..%2F..%2Fapi',
    url: '/webhooks/..%2F..%2Fapi',
    payload: valid.body,
    headers: JSON_TYPE,
    status: 404,
  },
  {
    name: 'path traversal to the admin API',
    url: '/webhooks/..%2Fapi%2Fsubscriptions',
    payload: valid.body,
    headers: JSON_TYPE,
    status: 404,
  },
  { ...extendSigned('', valid.body), name: 'source id in another case', url: '/webhooks/ERP', status: 404 },
  { ...extendSigned('', valid.body), name: 'source id with a NUL', url: '/webhooks/erp%00', status: 404 },
  { name: 'the reserved source id api', url: '/webhooks/api', payload: valid.body, headers: JSON_TYPE, status: 404 },
  { name: '__proto__ as source id', url: '/webhooks/__proto__', payload: valid.body, headers: JSON_TYPE, status: 404 },
  {
    name: 'constructor as source id',
    url: '/webhooks/constructor',
    payload: valid.body,
    headers: JSON_TYPE,
    status: 404,
  },
  { name: 'empty source id', url: '/webhooks/', payload: valid.body, headers: JSON_TYPE, status: 404 },
  { ...extendSigned('', valid.body), name: 'extra path segment', url: '/webhooks/erp/more', status: 404 },
  {
    name: 'broken percent-encoding in the path',
    url: '/webhooks/%E0%A4%A',
    payload: valid.body,
    headers: JSON_TYPE,
    status: 400,
  },

  // Methods other than POST on the callback URL (Fastify answers 404 for an unregistered method).
  { name: 'GET on a callback URL', method: 'GET', url: '/webhooks/erp', status: [404, 405] },
  { ...extendSigned('', valid.body), name: 'PUT on a callback URL', method: 'PUT', status: [404, 405] },
  { ...extendSigned('', valid.body), name: 'PATCH on a callback URL', method: 'PATCH', status: [404, 405] },
  { name: 'DELETE on a callback URL', method: 'DELETE', url: '/webhooks/erp', status: [404, 405] },

  // Query-string tricks: `key` must be a single string.
  { ...extendSigned('?key=a&key=b on a signed body', extendEnvelope().body, 400), url: '/webhooks/erp?key=a&key=b' },
  automation('?key twice (both right)', `${KEY}&key=${AUTOMATION_KEY}`, goodX, 400),
  automation('?key[]=right key', `?key[]=${AUTOMATION_KEY}`, goodX, 401),
  automation('?key[0]=right key', `?key[0]=${AUTOMATION_KEY}`, goodX, 401),
  automation('?KEY= (other case)', `?KEY=${AUTOMATION_KEY}`, goodX, 401),
  automation('?key= empty', '?key=', goodX, 401),
  automation('?key= 8 KB long', `?key=${'k'.repeat(8192)}`, goodX, 401),
  automation('?key= right key plus a NUL', `${KEY}%00`, goodX, 401),
  automation('no key', '', goodX, 401),

  // Automation API: X-Signature.
  automation('wrong X-Signature', KEY, (body) => hmacHex('wrong', body), 401),
  automation('no X-Signature', KEY, undefined, 401),
  automation('X-Signature over another body', KEY, () => hmacHex(AUTOMATION_SECRET, '{}'), 401),
  automation('X-Signature with sha512= prefix', KEY, (body) => `sha512=${goodX(body)}`, 401),
  automation('X-Signature truncated', KEY, (body) => goodX(body).slice(0, 32), 401),
  automation('orderId missing', KEY, goodX, 400, { orderId: undefined }),
  automation('orderId a number', KEY, goodX, 400, { orderId: 42 }),
  automation('orderId over 200 characters', KEY, goodX, 400, { orderId: 'o'.repeat(201) }),
  automation('eventType empty', KEY, goodX, 400, { eventType: '' }),
  automation('orderId with a NUL (no store takes it in an id)', KEY, goodX, 400, { orderId: `o\u0000${randomUUID()}` }),
  automation('eventType with a line break', KEY, goodX, 400, { eventType: 'Order\nAccepted' }),
  extendSchema('NotificationId with a control character', [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }], {
    Properties: { NotificationId: `bell\u0007${randomUUID()}` },
  }),
  (() => {
    const body = '{"orderId":"x",';
    return {
      name: 'esign: truncated JSON, signed',
      url: `/webhooks/esign${KEY}`,
      payload: body,
      headers: { ...JSON_TYPE, 'x-signature': goodX(body) },
      status: 400,
    };
  })(),

  // Ongoing WMS: Basic auth.
  ongoingAuth('Basic without a colon', 'wms', { authorization: basic(`${WMS_USER}${WMS_PASS}`) }),
  ongoingAuth('Basic with nothing after it', 'wms', { authorization: 'Basic ' }),
  ongoingAuth('the word Basic alone', 'wms', { authorization: 'Basic' }),
  ongoingAuth('Basic with invalid base64', 'wms', { authorization: 'Basic !!!$$$' }),
  ongoingAuth('Basic with the password only', 'wms', { authorization: basic(`:${WMS_PASS}`) }),
  ongoingAuth('Basic with a trailing space in the password', 'wms', {
    authorization: basic(`${WMS_USER}:${WMS_PASS} `),
  }),
  ongoingAuth('Basic with extra fields', 'wms', { authorization: `${basic(`${WMS_USER}:${WMS_PASS}`)} extra` }),
  ongoingAuth('Bearer with the password', 'wms', { authorization: `Bearer ${WMS_PASS}` }),
  // Node keeps the first of repeated Authorization headers (and so does app.inject): the first decides.
  ongoingAuth('two Authorization headers, bogus then good', 'wms', {
    authorization: ['Basic AAAA', basic(`${WMS_USER}:${WMS_PASS}`)],
  }),
  ongoingAuth('no Authorization', 'wms', {}),
  // Ongoing WMS: X-Auth-Token.
  ongoingAuth('wrong X-Auth-Token', 'wms-token', { 'x-auth-token': `${WMS_TOKEN}x` }),
  ongoingAuth('empty X-Auth-Token', 'wms-token', { 'x-auth-token': '' }),
  ongoingAuth('the token as Bearer instead', 'wms-token', { authorization: `Bearer ${WMS_TOKEN}` }),
  ongoingAuth('the token prefix only', 'wms-token', { 'x-auth-token': WMS_TOKEN.slice(0, 4) }),
  // Ongoing WMS: body.
  ongoingSchema('webhookEventId a string', ongoingBody({ webhookEventId: 'abc' }).body),
  ongoingSchema('webhookEventId fractional', ongoingBody({ webhookEventId: 1.5 }).body),
  ongoingSchema(
    'webhookEventId beyond safe integers',
    ongoingBody().body.replace(/"webhookEventId":\d+/, '"webhookEventId":1e20'),
  ),
  ongoingSchema('goodsOwnerId missing', ongoingBody({ goodsOwnerId: undefined }).body),
  ongoingSchema('malformed JSON', '{"webhookEventId":1,'),
  {
    ...ongoingSchema('text/plain', ongoingBody().body, 415),
    headers: { 'content-type': 'text/plain', authorization: basic(`${WMS_USER}:${WMS_PASS}`) },
  },

  // The admin API's bearer token.
  { name: 'admin: no token', method: 'GET', url: '/api/subscriptions', status: 401 },
  {
    name: 'admin: the word Bearer alone',
    method: 'GET',
    url: '/api/subscriptions',
    headers: { authorization: 'Bearer' },
    status: 401,
  },
  {
    name: 'admin: a space inside the token',
    method: 'GET',
    url: '/api/subscriptions',
    headers: { authorization: `Bearer ${ADMIN_TOKEN.slice(0, 5)} ${ADMIN_TOKEN.slice(5)}` },
    status: 401,
  },
  {
    name: 'admin: token then another word',
    method: 'GET',
    url: '/api/subscriptions',
    headers: { authorization: `Bearer ${ADMIN_TOKEN} extra` },
    status: 401,
  },
  {
    name: 'admin: Basic instead of Bearer',
    method: 'GET',
    url: '/api/subscriptions',
    headers: { authorization: `Basic ${ADMIN_TOKEN}` },
    status: 401,
  },
  {
    name: 'admin: 10 KB token',
    method: 'GET',
    url: '/api/subscriptions',
    headers: { authorization: `Bearer ${'t'.repeat(10_240)}` },
    status: 401,
  },
  {
    name: 'admin: create a subscription with a wrong token',
    method: 'POST',
    url: '/api/subscriptions',
    headers: { ...JSON_TYPE, authorization: `Bearer ${ADMIN_TOKEN}x` },
    payload: JSON.stringify({
      id: 'evil',
      name: 'x',
      contactEmail: 'x@example.com',
      url: 'http://127.0.0.1:1/',
      triggers: ['*'],
    }),
    status: 401,
  },
  {
    name: 'admin: publish an event with no token',
    method: 'POST',
    url: '/api/events',
    headers: JSON_TYPE,
    payload: JSON.stringify({ type: 'shop.Evil', data: {} }),
    status: 401,
  },
  // The ordering field and the replay route.
  ...(() => {
    const admin = { ...JSON_TYPE, authorization: `Bearer ${ADMIN_TOKEN}` };
    const replay = (name: string, body: unknown) => ({
      name: `admin: replay: ${name}`,
      url: '/api/subscriptions/bad-input-sub/replay',
      headers: admin,
      payload: JSON.stringify(body),
      status: 400,
    });
    return [
      replay('to before from', { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
      replay('from not a date', { from: 'last tuesday', to: '2026-01-01T00:00:00Z' }),
      replay('a year at once', { from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
      replay('a 10 KB replayId', {
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-02T00:00:00Z',
        replayId: 'r'.repeat(10_240),
      }),
      replay('types not a list', { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', types: 'ongoing-wms.*' }),
      replay('a query in a type', { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', types: ["x.y' OR 1=1"] }),
      {
        name: 'admin: create a subscription with ordering "order"',
        url: '/api/subscriptions',
        headers: admin,
        payload: JSON.stringify({
          id: 'ordering-bad',
          name: 'x',
          contactEmail: 'x@example.com',
          url: 'http://127.0.0.1:1/',
          triggers: ['*'],
          ordering: 'order',
        }),
        status: 400,
      },
    ];
  })(),
];

// ---------------------------------------------------------------------------------------------------
// Odd but arguably valid: accepted (202) or refused (4xx), never 5xx; what is accepted is delivered.

function extendOdd(
  name: string,
  notificationId: string,
  notifications: unknown[],
  rawEdit?: (json: string) => string,
): Case {
  const json = JSON.stringify({
    Id: 'odd',
    Attempt: 1,
    Properties: { NotificationId: notificationId },
    Notifications: notifications,
  });
  const body = rawEdit ? rawEdit(json) : json;
  return {
    name: `extend: ${name}`,
    url: '/webhooks/erp',
    payload: body,
    headers: { ...JSON_TYPE, 'ms-signature': msSignature(body) },
  };
}
const order = (OrderNumber: string) => [{ Action: 'OrderCreated', Details: { OrderNumber } }];
const uid = () => randomUUID();

const ODD: Case[] = [
  // JSON.stringify writes lone surrogates as \udXXX escapes; JSON.parse turns them back into lone surrogates.
  extendOdd('lone surrogate in NotificationId', `lone-\ud800-${uid()}`, order('SO-1')),
  extendOdd('lone surrogate in OrderNumber', uid(), order('SO-\udfff')),
  extendOdd('RTL override in NotificationId', `\u202e${uid()}`, order('SO-1')),
  extendOdd('RTL mark in OrderNumber', uid(), order('\u200fSO-1')),
  // Refused with a 400: a NUL in the NotificationId (the event key, part of the workflow id).
  { ...extendOdd('NUL in NotificationId', `nul\u0000${uid()}`, order('SO-1')), status: 400 },
  extendOdd('NUL in OrderNumber', uid(), order('SO\u00001')),
  extendOdd('emoji in the Action name (an unknown action)', uid(), [
    { Action: 'Order🚀Created💥', Details: { OrderNumber: 'SO-1' } },
  ]),
  extendOdd('non-Latin-1 NotificationId', `Ωμέγα-${uid()}`, order('SO-1')),
  (() => {
    // A byte that is not UTF-8 inside a string value: decoded as U+FFFD, the signature still matches.
    const [head, tail] = extendOdd('', uid(), order('SO-@')).payload!.toString().split('@') as [string, string];
    const body = Buffer.concat([Buffer.from(head), Buffer.from([0xff]), Buffer.from(tail)]);
    return {
      name: 'extend: invalid UTF-8 inside a string',
      url: '/webhooks/erp',
      payload: body,
      headers: { ...JSON_TYPE, 'ms-signature': msSignature(body) },
    };
  })(),
  extendOdd('duplicate keys (Id twice)', uid(), order('SO-1'), (json) =>
    json.replace('{"Id":"odd"', '{"Id":"first","Id":"odd"'),
  ),
  extendOdd('the same notification twice in one body', uid(), [...order('SO-1'), ...order('SO-1')]),
  extendOdd('unknown action', uid(), [{ Action: 'InventoryCounted', Details: {} }]),
  // Refused: deeper than MAX_JSON_DEPTH (src/api/json-depth.ts), wherever the nesting is.
  {
    ...extendOdd(
      '10,000 nested arrays inside Details',
      uid(),
      [{ Action: 'OrderCreated', Details: { OrderNumber: 'SO-1', Rows: 0 } }],
      (json) => json.replace('"Rows":0', `"Rows":${nestedArrays(10_000)}`),
    ),
    status: 400,
  },
  extendOdd('NotificationId of 2,000 characters', `${'n'.repeat(2000)}-${uid()}`, order('SO-1')),
  extendOdd('OrderNumber of 3,000 characters', uid(), order('o'.repeat(3000))),
  (() => {
    const body = ongoingBody({ webhookTemplate: 'SomethingNew🙂' }).body.replace(
      '"webhookEventId"',
      '"webhookEventId":1,"webhookEventId"',
    );
    return {
      name: 'wms: duplicate webhookEventId keys and an emoji template',
      url: '/webhooks/wms',
      payload: body,
      headers: { ...JSON_TYPE, authorization: basic(`${WMS_USER}:${WMS_PASS}`) },
    };
  })(),
  automation('unknown eventType', KEY, goodX, undefined, { eventType: 'OrderTeleported' }),
  {
    ...ongoingAuth('two Authorization headers, good then bogus (the first counts)', 'wms', {
      authorization: [basic(`${WMS_USER}:${WMS_PASS}`), 'Basic AAAA'],
    }),
    status: undefined,
    workflowId: undefined,
  },
  (() => {
    const { body } = extendEnvelope();
    return {
      name: 'extend: content type in upper case',
      url: '/webhooks/erp',
      payload: body,
      headers: { 'content-type': 'Application/JSON', 'ms-signature': msSignature(body) },
    };
  })(),
  {
    name: 'admin: extra spaces around the token',
    method: 'GET',
    url: '/api/subscriptions',
    headers: { authorization: `Bearer    ${ADMIN_TOKEN}   ` },
  },
];

// ===================================================================================================
// Hardening the HTTP front door, kept apart from the corpus above: media-type parameters and
// a BOM, a non-UTF-8 charset, the notification maximum, credentials in the query string, codec bounds
// and garbage, and the per-address failure limit (its own test below).

const withType = (c: Case, contentType: string): Case => ({
  ...c,
  name: `${c.name} (${contentType})`,
  headers: { ...c.headers, 'content-type': contentType },
});
const wmsBasic = { authorization: basic(`${WMS_USER}:${WMS_PASS}`) };

const HARDENING_ACCEPTED: Case[] = [
  ...[
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'Application/JSON; Charset="utf-8"',
    'application/json; boundary=x',
    'application/cloudevents+json; charset=utf-8',
  ].map((type) => withType(extendSigned('hardening: media-type parameters', extendEnvelope().body, 202), type)),
  (() => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(extendEnvelope().body)]);
    return extendSigned('hardening: UTF-8 BOM before the document, signed as sent', bom, 202);
  })(),
  {
    name: 'wms: hardening: charset=utf-8',
    url: '/webhooks/wms',
    payload: ongoingBody().body,
    headers: { 'content-type': 'application/json; charset=utf-8', ...wmsBasic },
    status: 202,
  },
  withType(automation('hardening: charset=UTF-8', KEY, goodX, 202), 'application/json; charset=UTF-8'),
];

const codecCase = (name: string, payloads: unknown[], status: number): Case => ({
  name: `codec: ${name}`,
  url: '/codec/decode',
  headers: { ...JSON_TYPE, origin: 'http://localhost:8233' },
  payload: JSON.stringify({ payloads }),
  status,
  remoteAddress: '127.0.0.1',
});
const encryptedLooking = (keyId: string, data: Buffer) => ({
  metadata: {
    encoding: Buffer.from('binary/encrypted').toString('base64'),
    'encryption-key-id': Buffer.from(keyId).toString('base64'),
  },
  data: data.toString('base64'),
});

const HARDENING_REJECTED: Case[] = [
  ...[
    'application/json; charset=iso-8859-1',
    'application/json; charset=utf-16',
    'application/json; charset=windows-1252',
    'text/plain; charset=utf-8',
  ].map((type) => {
    const { body, workflowId } = extendEnvelope();
    return { ...withType(extendSigned('hardening: not UTF-8 JSON', body, 415), type), workflowId };
  }),
  (() => {
    const notifications = Array.from({ length: MAX_NOTIFICATIONS + 1 }, () => ({ Action: 'X', Details: {} }));
    const { body, workflowId } = extendEnvelope(notifications);
    return {
      ...extendSigned(
        `hardening: ${MAX_NOTIFICATIONS + 1} notifications (over server.envelopes.maxNotifications)`,
        body,
        413,
      ),
      workflowId,
    };
  })(),
  {
    name: 'admin: hardening: the right token in ?token=',
    method: 'GET',
    url: `/api/subscriptions?token=${ADMIN_TOKEN}`,
    status: 400,
  },
  {
    name: 'admin: hardening: the right token in ?access_token=',
    method: 'GET',
    url: `/api/subscriptions?access_token=${ADMIN_TOKEN}`,
    status: 400,
  },
  {
    name: 'admin: hardening: a bearer header and ?token= too',
    method: 'GET',
    url: `/api/subscriptions?token=${ADMIN_TOKEN}`,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    status: 400,
  },
  codecCase(
    'hardening: 501 payloads',
    Array.from({ length: 501 }, () => ({ metadata: {}, data: '' })),
    413,
  ),
  codecCase('hardening: ciphertext that does not authenticate', [encryptedLooking('test1', Buffer.alloc(64, 1))], 400),
  codecCase('hardening: an unknown key id', [encryptedLooking('no-such-key', Buffer.alloc(64, 1))], 400),
  codecCase('hardening: ciphertext too short', [encryptedLooking('test1', Buffer.alloc(3))], 400),
  {
    ...codecCase('hardening: loopback through a proxy, no codec token', [], 401),
    headers: { ...JSON_TYPE, 'x-forwarded-for': '203.0.113.7' },
  },
];

// ---------------------------------------------------------------------------------------------------

interface Outcome {
  name: string;
  status: number;
  body: string;
}
const outcomes: Outcome[] = [];
/** Inbound workflow ids from the 202 answers: the only ones that may exist on the task queue. */
const startedWorkflowIds = new Set<string>();
/** Event ids from the 202 answers (for the delivery check). */
const acceptedEvents: Array<{ name: string; eventId: string }> = [];

/** Temporal stores ids as UTF-8: a lone surrogate comes back as U+FFFD. */
const asStored = (id: string) => Buffer.from(id, 'utf8').toString('utf8');

/** The outcome of each case already sent: a case is sent once, by whichever test needs it first. */
const sent = new Map<Case, Outcome>();
async function outcomeOf(c: Case): Promise<Outcome> {
  const known = sent.get(c);
  if (known) return known;
  const outcome = await run(c);
  sent.set(c, outcome);
  return outcome;
}

/** The status an odd case gets by design: the one it names, else 202 for a webhook and 200 for the admin API. */
const oddStatus = (c: Case) => (typeof c.status === 'number' ? c.status : c.url.startsWith('/webhooks/') ? 202 : 200);

async function run(c: Case): Promise<Outcome> {
  const remoteAddress = c.remoteAddress ?? `10.200.${(outcomes.length >> 8) & 255}.${outcomes.length & 255}`;
  const res = await h.app.inject({
    method: c.method ?? 'POST',
    url: c.url,
    headers: c.headers,
    payload: c.payload,
    remoteAddress,
  } as InjectOptions);
  const outcome = { name: c.name, status: res.statusCode, body: res.body.slice(0, 300) };
  outcomes.push(outcome);
  if (res.statusCode === 202 && c.url.startsWith('/webhooks/')) {
    const sourceId = c.url.split('/')[2]!.split('?')[0]!;
    for (const event of (res.json() as { events: Array<{ workflowId: string; eventKey: string }> }).events) {
      startedWorkflowIds.add(asStored(event.workflowId));
      acceptedEvents.push({ name: c.name, eventId: `${sourceId}/${event.eventKey}` });
    }
  }
  return outcome;
}

async function inboundWorkflowsOnQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of h.client.workflow.list({
    query: `TaskQueue = '${h.config.temporal.taskQueue}' AND WorkflowType = 'inboundWorkflow'`,
  }))
    ids.push(w.workflowId);
  return ids;
}

test('the corpus is big enough to mean something', async () => {
  expect(REJECTED.length).toBeGreaterThanOrEqual(60);
  // Nothing on this task queue yet: every inbound workflow seen later comes from this file's requests.
  expect(await inboundWorkflowsOnQueue()).toEqual([]);
});

describe('bad requests: a 4xx (the right one), never a 5xx, nothing started', () => {
  test.each(REJECTED.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { status, body } = await outcomeOf(c);
    const expected: readonly number[] | undefined =
      c.status === undefined ? undefined : typeof c.status === 'number' ? [c.status] : c.status;
    const ok = expected ? expected.includes(status) : status >= 400 && status < 500;
    // Status and body in one object, so a failure shows what hookflow answered.
    expect({ ok, status, expected: expected ?? '4xx', body }).toEqual({
      ok: true,
      status,
      expected: expected ?? '4xx',
      body,
    });
    if (c.workflowId)
      await expect(h.client.workflow.getHandle(c.workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});

describe('odd but arguably valid input: the status it gets by design (202, or a 400 saying why), never 5xx', () => {
  test.each(ODD.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { status, body } = await outcomeOf(c);
    expect({ status, body }).toEqual({ status: oddStatus(c), body });
  });
});

describe('the hardened front door', () => {
  test.each(HARDENING_ACCEPTED.map((c) => [c.name, c] as const))('accepted: %s', async (_name, c) => {
    const { status, body } = await outcomeOf(c);
    expect({ status, body }).toEqual({ status: 202, body });
  });

  test.each(HARDENING_REJECTED.map((c) => [c.name, c] as const))('refused: %s', async (_name, c) => {
    const { status, body } = await outcomeOf(c);
    expect({ status, body }).toEqual({ status: c.status, body });
    if (c.workflowId)
      await expect(h.client.workflow.getHandle(c.workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test.each([
    ['headers', 'POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: aaaaaaaaaaaa\r\n'],
    [
      'a body',
      'POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
      '{"a":1}',
    ],
  ])(
    'slow client: %s trickled a byte every 100 ms is cut with 408 while still sending (configured 1 s / 2 s)',
    async (_what, head, trickle) => {
      const address = h.app.server.listening
        ? h.app.server.address()
        : (await h.app.listen({ host: '127.0.0.1', port: 0 }), h.app.server.address());
      const { port } = address as { port: number };
      // 15 s of trickling: Node's default 30 s check interval would let all of it through.
      const outcome = await trickleClient(port, head, trickle);
      outcomes.push({
        name: `slow client: ${_what}`,
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(outcome.response)?.[1] ?? 0),
        body: '',
      });
      expect(outcome).toEqual({ cut: true, response: expect.stringMatching(/^HTTP\/1\.1 408/) });
    },
  );

  test('100 failed requests from one address: its next failure gets 429, its signed request is served, and so is the source from elsewhere', async () => {
    const attacker = '10.250.0.1';
    for (let i = 0; i < 100; i++) {
      const { status } = await run({
        ...extendAuth('hardening: flood', () => ({ 'ms-signature': 'sha256=00' })),
        remoteAddress: attacker,
      });
      expect(status).toBe(401);
    }
    const blocked = await run({
      ...extendAuth('hardening: one more failure from the flooding address', () => ({ 'ms-signature': 'sha256=00' })),
      status: 429,
      remoteAddress: attacker,
    });
    expect(blocked.status).toBe(429);
    // Behind a NAT the real sender shares the attacker's address: valid credentials are never refused.
    const sharing = await run({
      ...extendSigned('hardening: signed, from the flooding address', extendEnvelope().body, 202),
      remoteAddress: attacker,
    });
    expect(sharing.status).toBe(202);
    const source = await run({
      ...extendSigned('hardening: signed, from the source', extendEnvelope().body, 202),
      remoteAddress: '10.250.0.2',
    });
    expect(source.status).toBe(202);
  });
});

test('after the corpus: the process answers, and the only inbound workflows are those of 202 answers', async () => {
  // Self-contained: sends every case not sent yet (all of them when this test runs alone).
  for (const c of [...REJECTED, ...ODD, ...HARDENING_ACCEPTED, ...HARDENING_REJECTED]) await outcomeOf(c);
  expect(startedWorkflowIds.size).toBeGreaterThan(0);
  console.log(
    `[faults] bad input: ${REJECTED.length} bad requests, ${ODD.length} odd ones; statuses: ${JSON.stringify(outcomes.reduce<Record<number, number>>((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {}))}` +
      `\n${outcomes
        .filter((o) => ODD.some((c) => c.name === o.name))
        .map((o) => `  ${o.status} ${o.name}`)
        .join('\n')}`,
  );
  expect((await h.app.inject('/healthz')).statusCode).toBe(200);
  expect((await h.app.inject('/readyz')).statusCode).toBe(200);

  // Visibility lags: wait until every accepted workflow is listed, then give stragglers a moment.
  await eventually(async () => {
    const listed = new Set(await inboundWorkflowsOnQueue());
    return [...startedWorkflowIds].every((id) => listed.has(id));
  }, 'the accepted inbound workflows to be listed');
  await sleep(2000);
  const extra = (await inboundWorkflowsOnQueue()).filter((id) => !startedWorkflowIds.has(id));
  expect(extra).toEqual([]);
});

test('every odd event that was accepted is delivered', async () => {
  // Self-contained: sends the odd cases not sent yet; every case accepted by design has its events here.
  for (const c of ODD) await outcomeOf(c);
  const acceptedOdd = ODD.filter((c) => oddStatus(c) === 202).map((c) => c.name);
  expect(acceptedOdd.filter((name) => !acceptedEvents.some((e) => e.name === name))).toEqual([]);
  const results = await Promise.all(
    acceptedEvents.map(async ({ name, eventId }) => {
      const handle = h.client.workflow.getHandle(deliveryWorkflowId(eventId, subscriptionId));
      // Fan-out starts the delivery; wait for it to exist, then for its outcome (the window is 15 s).
      const outcome = await eventually(
        async () => {
          try {
            return await handle.result();
          } catch (err) {
            if (err instanceof WorkflowNotFoundError) return undefined;
            return { error: (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message };
          }
        },
        `delivery of ${eventId}`,
        60_000,
      ).catch((err: Error) => ({ error: err.message }));
      return { name, outcome: 'error' in outcome ? `FAILED: ${outcome.error}` : 'delivered' };
    }),
  );
  expect(results.filter((r) => r.outcome !== 'delivered')).toEqual([]);
});

// ---------------------------------------------------------------------------------------------------
// The web console (/console): no page without the session, no form post without the CSRF token of the
// same browser, oversize and repeated fields refused. Each a 4xx (or the sign-in redirect), and nothing
// changed or created.

describe('console: forged form posts, missing CSRF tokens, oversize fields', () => {
  interface Browser {
    cookies: Map<string, string>;
    csrf: string;
  }
  const cookieHeader = (b: Browser) => [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (b: Browser, setCookie: string | string[] | undefined) => {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      b.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const form = (fields: Record<string, string | string[]>) =>
    Object.entries(fields)
      .flatMap(([k, v]) => [v].flat().map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`))
      .join('&');
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

  async function signIn(): Promise<Browser> {
    const b: Browser = { cookies: new Map(), csrf: '' };
    const login = await h.app.inject({ url: '/console/login' });
    remember(b, login.headers['set-cookie']);
    const res = await h.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { ...FORM, cookie: cookieHeader(b) },
      payload: form({ _csrf: csrfOf(login.body), token: ADMIN_TOKEN }),
    });
    expect(res.statusCode).toBe(303);
    remember(b, res.headers['set-cookie']);
    const page = await h.app.inject({ url: '/console/subscriptions/new', headers: { cookie: cookieHeader(b) } });
    expect(page.statusCode).toBe(200);
    b.csrf = csrfOf(page.body);
    return b;
  }

  let alice: Browser;
  let mallory: Browser;
  const validFields = () => ({
    id: 'console-forged',
    name: 'Forged',
    contactEmail: 'x@example.com',
    url: 'http://127.0.0.1:9/x',
    triggers: '*',
    retryPolicy: 'none',
    signature: 'ms-signature',
    'auth.type': 'none',
    connectionTimeout: 'PT5S',
  });

  beforeAll(async () => {
    alice = await signIn();
    mallory = await signIn();
  });

  const post = (
    b: Browser | null,
    url: string,
    fields: Record<string, string | string[]>,
    extra: Record<string, string> = {},
  ) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { ...FORM, ...(b ? { cookie: cookieHeader(b) } : {}), ...extra },
      payload: form(fields),
    });

  test.each([
    '/console',
    '/console/subscriptions/new',
    `/console/subscriptions/SUB/deliveries`,
    '/console/subscriptions/SUB',
    '/console/subscriptions/SUB/delete',
  ])('no session: GET %s only redirects to sign-in', async (path) => {
    const res = await h.app.inject({ url: path.replace('SUB', subscriptionId) });
    expect({
      status: res.statusCode,
      location: res.headers.location,
      leaks: res.body.includes(subscriptionId),
    }).toEqual({ status: 303, location: '/console/login', leaks: false });
  });

  test('a tampered session cookie is no session', async () => {
    const res = await h.app.inject({
      url: '/console',
      headers: { cookie: cookieHeader(alice).replace(/hookflow_console=[^.;]+/, 'hookflow_console=forged') },
    });
    expect(res.statusCode).toBe(303);
  });

  test.each([
    [
      'no session, but a valid token',
      () => post(null, '/console/subscriptions', { ...validFields(), _csrf: alice.csrf }),
      401,
    ],
    ['no CSRF token', () => post(alice, '/console/subscriptions', validFields()), 403],
    [
      'a made-up CSRF token',
      () => post(alice, '/console/subscriptions', { ...validFields(), _csrf: 'forged-token' }),
      403,
    ],
    [
      "another browser's CSRF token",
      () => post(alice, '/console/subscriptions', { ...validFields(), _csrf: mallory.csrf }),
      403,
    ],
    [
      'the token without its CSRF cookie',
      () =>
        post(
          { cookies: new Map([...alice.cookies].filter(([k]) => k === 'hookflow_console')), csrf: '' },
          '/console/subscriptions',
          { ...validFields(), _csrf: alice.csrf },
        ),
      403,
    ],
    [
      'JSON instead of a form, no token',
      () =>
        h.app.inject({
          method: 'POST',
          url: '/console/subscriptions',
          headers: { 'content-type': 'application/json', cookie: cookieHeader(alice) },
          payload: JSON.stringify(validFields()),
        }),
      403,
    ],
    ['disable without a token', () => post(alice, `/console/subscriptions/${subscriptionId}/disable`, {}), 403],
    ['delete without a token', () => post(alice, `/console/subscriptions/${subscriptionId}/delete`, {}), 403],
    [
      'delete with no session',
      () => post(null, `/console/subscriptions/${subscriptionId}/delete`, { _csrf: alice.csrf }),
      401,
    ],
    ['sign-in without a token', () => post(null, '/console/login', { token: ADMIN_TOKEN }), 403],
    ['sign-out without a token', () => post(alice, '/console/logout', {}), 403],
    [
      'retry of something that is not a delivery',
      () =>
        post(alice, '/console/deliveries/retry', {
          _csrf: alice.csrf,
          delivery: 'inbound/x',
          subscription: subscriptionId,
        }),
      400,
    ],
    [
      'a name of 10,000 characters',
      () => post(alice, '/console/subscriptions', { ...validFields(), name: 'n'.repeat(10_000), _csrf: alice.csrf }),
      400,
    ],
    [
      'a field over 32 KiB',
      () =>
        post(alice, '/console/subscriptions', {
          ...validFields(),
          'tls.ca': `-----BEGIN CERTIFICATE-----${'A'.repeat(40_000)}`,
          _csrf: alice.csrf,
        }),
      400,
    ],
    [
      'a form over 256 KiB',
      () =>
        post(alice, '/console/subscriptions', {
          ...validFields(),
          a: 'x'.repeat(30_000),
          b: 'x'.repeat(30_000),
          c: 'x'.repeat(30_000),
          d: 'x'.repeat(30_000),
          e: 'x'.repeat(30_000),
          f: 'x'.repeat(30_000),
          g: 'x'.repeat(30_000),
          h: 'x'.repeat(30_000),
          i: 'x'.repeat(30_000),
          _csrf: alice.csrf,
        }),
      413,
    ],
    [
      'a field given twice',
      () => post(alice, '/console/subscriptions', { ...validFields(), name: ['a', 'b'], _csrf: alice.csrf }),
      400,
    ],
    [
      'a wrong admin token',
      () => post(alice, '/console/login', { token: 'wrong-token-wrong-token', _csrf: alice.csrf }),
      401,
    ],
  ] as const)('%s', async (_name, send, expected) => {
    const res = await send();
    expect({ status: res.statusCode, body: res.body.slice(0, 200) }).toEqual({
      status: expected,
      body: expect.any(String),
    });
    expect(res.headers['set-cookie'] ?? '').not.toMatch(/hookflow_console=[^;]{10}/);
  });

  test('an oversize name is reported next to its field, and the form is not echoed with secrets', async () => {
    const res = await post(alice, '/console/subscriptions', {
      ...validFields(),
      name: 'n'.repeat(500),
      secret: 'never-echo-this-secret',
      _csrf: alice.csrf,
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/<p class="error" id="name-error">[^<]*200/);
    expect(res.body).not.toContain('never-echo-this-secret');
  });

  test('guessing the admin token is slowed down: at most 10 sign-in posts a minute from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (await post(alice, '/console/login', { token: `guess-${i}-guess-guess`, _csrf: alice.csrf })).statusCode,
      );
    expect(statuses.slice(-2)).toEqual([429, 429]);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });

  test('after the console corpus: nothing was created, the target is unchanged and active', async () => {
    await expect(h.client.workflow.getHandle('subscription/console-forged').describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
    const res = await h.app.inject({
      url: `/api/subscriptions/${subscriptionId}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.json()).toMatchObject({ id: subscriptionId, active: true });
  });
});
