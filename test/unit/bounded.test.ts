import { nestsDeeperThan } from '../../src/api/json-depth';
import {
  boundedWorkflowId,
  hasControlCharacters,
  headerValue,
  keywordValue,
  MAX_STORED_CHARS,
} from '../../src/shared/bounded';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { inboundWorkflowId } from '../../src/shared/inbound';

describe('boundedWorkflowId: every id fits PostgreSQL visibility (VARCHAR(255)) and stays a dedup key', () => {
  test('ids up to 255 characters are unchanged', () => {
    expect(inboundWorkflowId('erp', 'abc-0')).toBe('inbound/erp/abc-0');
    const id = 'x'.repeat(MAX_STORED_CHARS);
    expect(boundedWorkflowId(id)).toBe(id);
  });

  test('longer ids are shortened: readable prefix, hash of the whole, same input same id', () => {
    const a = inboundWorkflowId('erp', `${'n'.repeat(2000)}-a-0`);
    const b = inboundWorkflowId('erp', `${'n'.repeat(2000)}-b-0`);
    expect(a.length).toBeLessThanOrEqual(MAX_STORED_CHARS);
    expect(a.startsWith('inbound/erp/nnnn')).toBe(true);
    expect(a).toMatch(/~[0-9a-f]{16}$/);
    expect(inboundWorkflowId('erp', `${'n'.repeat(2000)}-a-0`)).toBe(a);
    expect(b).not.toBe(a);
    expect(deliveryWorkflowId(`erp/${'o'.repeat(300)}`, 'sub-1').length).toBeLessThanOrEqual(MAX_STORED_CHARS);
  });

  test('never cuts a surrogate pair in half', () => {
    const id = `${'x'.repeat(MAX_STORED_CHARS - 18)}😀${'y'.repeat(50)}`;
    const bounded = boundedWorkflowId(id);
    expect(bounded).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(Buffer.from(bounded, 'utf8').toString('utf8')).toBe(bounded);
  });
});

test('keywordValue drops control characters and caps at 255 characters', () => {
  expect(keywordValue('SO-\u00001\n')).toBe('SO-1');
  expect(keywordValue('o'.repeat(3000))).toHaveLength(MAX_STORED_CHARS);
  expect(keywordValue('W1')).toBe('W1');
  expect(hasControlCharacters('a\u0000b')).toBe(true);
  expect(hasControlCharacters('Ωμέγα \u202e')).toBe(false);
});

test('headerValue percent-encodes what HTTP headers cannot carry, and only that', () => {
  expect(headerValue('erp/3f2c-0')).toBe('erp/3f2c-0');
  expect(headerValue('erp/Ω-0')).toBe('erp/%CE%A9-0');
  expect(headerValue('a%b')).toBe('a%25b');
  expect(headerValue('nul\u0000')).toBe('nul%00');
  expect(headerValue('lone-\ud800')).toBe('lone-%EF%BF%BD');
  expect(decodeURIComponent(headerValue('Order🚀Created'))).toBe('Order🚀Created');
  // What undici and Node's http accept as a header value.
  expect(() => new Headers({ 'x-hookflow-event-id': headerValue('\u202eΩ\r\n😀') })).not.toThrow();
});

test('nestsDeeperThan: iterative, so a hostile body cannot overflow the stack', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  expect(nestsDeeperThan(deep)).toBe(true);
  expect(nestsDeeperThan({ a: { b: [{ c: 1 }] } }, 4)).toBe(false);
  expect(nestsDeeperThan({ a: { b: [{ c: {} }] } }, 4)).toBe(true);
  expect(nestsDeeperThan('text')).toBe(false);
});
