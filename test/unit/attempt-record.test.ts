import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { attemptBody, keptHeaders, networkErrorWords } from '../../src/activities/http';
import { failureConverter } from '../../src/temporal/failure-converter';

/** The parts of an attempt record built without a network, and which failures stay readable. */

const coded = (code: string, message = `${code} 10.1.2.3:443 /secret?key=k`, extra: object = {}) =>
  Object.assign(new Error(message), { code }, extra);

describe('networkErrorWords', () => {
  test('codes become fixed words, never the error text (which may name addresses or keys)', () => {
    expect(networkErrorWords(coded('ECONNREFUSED'))).toBe('connection refused');
    expect(networkErrorWords(coded('ENOTFOUND'))).toBe('DNS: host not found');
    expect(networkErrorWords(new Error('fetch failed', { cause: coded('ECONNRESET') }))).toBe(
      'connection reset by the receiver',
    );
    // Node's happy eyeballs: one AggregateError of each address's refusal.
    const aggregate = Object.assign(new AggregateError([coded('ECONNREFUSED')], 'x'), {});
    expect(networkErrorWords(aggregate)).toBe('connection refused');
    expect(networkErrorWords(coded('UNKNOWN_THING'))).toBe('network error (UNKNOWN_THING)');
    expect(networkErrorWords(new Error('no code at all'))).toBe('network error');
  });

  test("TLS: Node's certificate phrases are kept, anything else only by code", () => {
    expect(networkErrorWords(coded('CERT_HAS_EXPIRED', 'certificate has expired'))).toBe(
      'TLS: certificate has expired',
    );
    expect(networkErrorWords(coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'))).toBe(
      'TLS: unable to verify the first certificate',
    );
    expect(
      networkErrorWords(coded('ERR_TLS_CERT_ALTNAME_INVALID', "Host: a.example. is not in the cert's altnames")),
    ).toBe('TLS: certificate does not match the host name');
    expect(
      networkErrorWords(
        coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'x', { reason: 'tlsv13 alert certificate required' }),
      ),
    ).toBe('TLS: tlsv13 alert certificate required');
  });
});

describe('attemptBody', () => {
  test('text as is; cut at the limit without a broken character', () => {
    expect(attemptBody(Buffer.from('{"error":"unknown SKU"}'), 23, true)).toEqual({
      bytes: 23,
      encoding: 'text',
      content: '{"error":"unknown SKU"}',
      truncated: false,
    });
    const euro = Buffer.from('€€'); // 6 bytes; a head of 4 cuts the second one
    expect(attemptBody(euro.subarray(0, 4), 6, true)).toMatchObject({
      encoding: 'text',
      content: '€',
      truncated: true,
    });
  });

  test('binary (not UTF-8, or NUL bytes) as base64', () => {
    expect(attemptBody(Buffer.from([0xff, 0xfe, 0x00]), 3, true)).toEqual({
      bytes: 3,
      encoding: 'base64',
      content: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'),
      truncated: false,
    });
    expect(attemptBody(Buffer.from('a\u0000b'), 3, true).encoding).toBe('base64');
  });
});

test('keptHeaders keeps the allowlist only', () => {
  expect(
    keptHeaders({
      'content-type': 'application/json',
      'retry-after': '120',
      'x-request-id': 'r-1',
      'set-cookie': ['a=b', 'c=d'],
      'www-authenticate': 'Bearer realm=x',
      authorization: 'Bearer t',
    }),
  ).toEqual({ 'content-type': 'application/json', 'retry-after': '120', 'x-request-id': 'r-1' });
});

describe('failure converter', () => {
  const convert = (err: Error) => failureConverter.errorToFailure(err, defaultPayloadConverter);

  test("a delivery attempt's typed failure stays readable, without a stack trace", () => {
    const http = ApplicationFailure.create({ type: 'Http503', message: 'Http503: receiver answered HTTP 503' });
    const failure = convert(http);
    expect(failure.message).toBe('Http503: receiver answered HTTP 503');
    expect(failure.stackTrace).toBe('');
    expect(failure.encodedAttributes).toBeFalsy();
    const final = convert(
      ApplicationFailure.create({ type: 'DeliveryFailed', message: 'delivery failed', cause: http }),
    );
    expect(final.message).toBe('delivery failed');
    expect(final.cause?.message).toBe('Http503: receiver answered HTTP 503');
  });

  test('every other failure is encoded (message and stack in an encrypted payload)', () => {
    const notFound = convert(
      ApplicationFailure.create({ type: 'FollowUpNotFound', message: 'GET /x?customer=secret' }),
    );
    expect(notFound.message).toBe('Encoded failure');
    expect(notFound.encodedAttributes).toBeTruthy();
    expect(convert(new Error('plain error')).message).toBe('Encoded failure');
    // A readable type over an unreadable cause (an SSRF refusal names an address) is encoded too.
    const refused = ApplicationFailure.create({ type: 'SsrfRefused', message: 'refused: 10.0.0.1' });
    const final = convert(
      ApplicationFailure.create({ type: 'DeliveryFailed', message: 'x: refused: 10.0.0.1', cause: refused }),
    );
    expect(final.message).toBe('Encoded failure');
    expect(final.cause?.message).toBe('Encoded failure');
  });
});
