import { createHmac } from 'node:crypto';
import { constantTimeEqual, decodeBase64, decodeHex } from '../../src/signing/hmac';
import { basicAuthHeader, verifyBasicAuth, verifyToken } from '../../src/signing/credentials';
import { signMsSignature, verifyMsSignature } from '../../src/signing/ms-signature';
import { signStandardWebhook, standardWebhooksKey } from '../../src/signing/standard-webhooks';
import { signXSignature, verifyXSignature } from '../../src/signing/x-signature';

// The Extend Commerce documentation's own sample (shared/seeds/001).
const EXTEND_VECTOR = {
  secret: 'secret123',
  body: "{'test':'test2'}",
  bodyHex: '7B2774657374273A277465737432277D',
  signature: 'sha256=25FB6994568A75CD233E04BA1C653AF1BF476041CC543AF04F82CAAC482C201A',
};

describe('ms-signature (Extend Commerce)', () => {
  const body = Buffer.from(EXTEND_VECTOR.body, 'utf8');

  test('the documented bytes of the seed body (hex) are signed and verified as the seed says', () => {
    const documented = decodeHex(EXTEND_VECTOR.bodyHex)!;
    expect(documented).toHaveLength(16);
    expect(signMsSignature(EXTEND_VECTOR.secret, documented)).toBe(EXTEND_VECTOR.signature);
    expect(verifyMsSignature(EXTEND_VECTOR.secret, documented, EXTEND_VECTOR.signature)).toBe(true);
  });

  test('signing reproduces the seed signature exactly', () => {
    expect(signMsSignature(EXTEND_VECTOR.secret, body)).toBe(EXTEND_VECTOR.signature);
  });

  test('verifies the seed signature, in upper and lower case hex', () => {
    expect(verifyMsSignature(EXTEND_VECTOR.secret, body, EXTEND_VECTOR.signature)).toBe(true);
    expect(verifyMsSignature(EXTEND_VECTOR.secret, body, EXTEND_VECTOR.signature.toLowerCase())).toBe(true);
  });

  test.each([
    ['missing', undefined],
    ['empty', ''],
    ['without prefix', EXTEND_VECTOR.signature.slice('sha256='.length)],
    ['wrong algorithm prefix', EXTEND_VECTOR.signature.replace('sha256', 'sha1')],
    ['truncated', EXTEND_VECTOR.signature.slice(0, -2)],
    ['odd length', EXTEND_VECTOR.signature.slice(0, -1)],
    ['not hex', 'sha256=' + 'Z'.repeat(64)],
    ['one digit changed', EXTEND_VECTOR.signature.slice(0, -1) + 'B'],
  ])('refuses a signature that is %s', (_name, header) => {
    expect(verifyMsSignature(EXTEND_VECTOR.secret, body, header)).toBe(false);
  });

  test('refuses the right signature over a different body or with a different secret', () => {
    expect(verifyMsSignature(EXTEND_VECTOR.secret, Buffer.from("{'test':'test3'}"), EXTEND_VECTOR.signature)).toBe(
      false,
    );
    expect(verifyMsSignature('secret124', body, EXTEND_VECTOR.signature)).toBe(false);
  });
});

describe('X-Signature (Automation API)', () => {
  const secret = 'HeaderSecret';
  const body = Buffer.from('{"orderId":"07c6ad8c-d1ba-4e73-9bbf-c70a085a449c","eventType":"OrderAccepted"}');
  // Computed independently of the code under test.
  const digest = createHmac('sha256', secret).update(body).digest();

  test('signs as lower-case hex HMAC-SHA256', () => {
    expect(signXSignature(secret, body)).toBe(digest.toString('hex'));
  });

  test.each([
    ['hex', digest.toString('hex')],
    ['upper-case hex', digest.toString('hex').toUpperCase()],
    ['base64', digest.toString('base64')],
    ['base64url', digest.toString('base64url')],
    ['sha256= + hex', `sha256=${digest.toString('hex')}`],
    ['sha256= + base64', `sha256=${digest.toString('base64')}`],
  ])('accepts %s', (_name, header) => {
    expect(verifyXSignature(secret, body, header)).toBe(true);
  });

  test.each([
    ['missing', undefined],
    ['a digest of another body', createHmac('sha256', secret).update('x').digest('hex')],
    ['a digest with another secret', createHmac('sha256', 'other').update(body).digest('base64')],
    ['garbage', 'not a signature!'],
  ])('refuses %s', (_name, header) => {
    expect(verifyXSignature(secret, body, header)).toBe(false);
  });
});

// The specification's published vector: standard-webhooks/standard-webhooks,
// libraries/javascript/src/webhook.test.ts, "sign function works" (the other libraries' tests repeat it).
const STANDARD_WEBHOOKS_VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks (outbound webhook-signature)', () => {
  const v = STANDARD_WEBHOOKS_VECTOR;

  test("reproduces the specification's published test vector exactly", () => {
    expect(signStandardWebhook(v.secret, v.id, v.timestamp, v.body)).toBe(v.signature);
    expect(signStandardWebhook(v.secret, v.id, v.timestamp, Buffer.from(v.body, 'utf8'))).toBe(v.signature);
  });

  test('a whsec_ secret is its base64 key material, not its text', () => {
    expect(standardWebhooksKey(v.secret)).toEqual(Buffer.from(v.secret.slice('whsec_'.length), 'base64'));
    expect(standardWebhooksKey('plain-secret')).toEqual(Buffer.from('plain-secret', 'utf8'));
  });

  test('id, timestamp and body are all signed', () => {
    expect(signStandardWebhook(v.secret, 'msg_other', v.timestamp, v.body)).not.toBe(v.signature);
    expect(signStandardWebhook(v.secret, v.id, v.timestamp + 1, v.body)).not.toBe(v.signature);
    expect(signStandardWebhook(v.secret, v.id, v.timestamp, '{"test": 2432232315}')).not.toBe(v.signature);
  });
});

describe('credentials', () => {
  test('Basic auth round trip and refusals', () => {
    const header = basicAuthHeader('ongoing', 'p@ss:word');
    expect(header).toBe(`Basic ${Buffer.from('ongoing:p@ss:word').toString('base64')}`);
    expect(verifyBasicAuth(header, 'ongoing', 'p@ss:word')).toBe(true);
    expect(verifyBasicAuth(header.replace('Basic', 'basic'), 'ongoing', 'p@ss:word')).toBe(true);
    expect(verifyBasicAuth(header, 'ongoing', 'other')).toBe(false);
    expect(verifyBasicAuth('Bearer abc', 'ongoing', 'p@ss:word')).toBe(false);
    expect(verifyBasicAuth(undefined, 'ongoing', 'p@ss:word')).toBe(false);
  });

  test('token comparison', () => {
    expect(verifyToken('tok-123', 'tok-123')).toBe(true);
    expect(verifyToken('tok-12', 'tok-123')).toBe(false);
    expect(verifyToken(undefined, 'tok-123')).toBe(false);
  });

  test('constant-time equality handles unequal lengths without throwing', () => {
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });

  test('strict decoders', () => {
    expect(decodeHex('0aFF')?.toString('hex')).toBe('0aff');
    expect(decodeHex('abc')).toBeUndefined();
    expect(decodeBase64('AQID')?.toString('hex')).toBe('010203');
    expect(decodeBase64('***')).toBeUndefined();
  });
});
