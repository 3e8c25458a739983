import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, request } from 'undici';
import { createHttpAgent, guardedConnector, ssrfFailure } from '../../src/activities/http';
import {
  classifyAddress,
  createSsrfGuard,
  findSsrfRefusal,
  SsrfRefusedError,
  type Resolver,
} from '../../src/security/ssrf';
import { FakeHttpPeer } from '../support/fake-http';

describe('classifyAddress', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    // IPv4-mapped IPv6, dotted and hex, and the NAT64 prefix: the embedded IPv4 address decides.
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['not-an-ip', 'not an IP address'],
  ])('%s is refused (%s)', (address, reason) => {
    expect(classifyAddress(address)).toBe(reason);
  });

  test.each([
    '93.184.216.34',
    '2606:2800:220:1::',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '::ffff:93.184.216.34',
    '64:ff9b::93.184.216.34',
  ])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });
});

describe('allowlist', () => {
  const guard = createSsrfGuard(['127.0.0.0/8', '::1/128', '10.1.0.0/16', '192.168.7.7', 'Internal.Example.test']);

  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'], // mapped IPv6 inside an IPv4 CIDR
    ['api.local', '10.1.2.3'],
    ['192.168.7.7', '192.168.7.7'], // a bare address is a /32
    ['internal.example.test', '10.9.9.9'], // the host name is listed: any address, case-insensitive
    ['INTERNAL.example.test.', '169.254.169.254'],
    ['example.com', '93.184.216.34'], // public needs no entry
  ])('%s at %s is allowed', (host, address) => {
    expect(guard.check(host, address)).toBeUndefined();
  });

  test.each([
    ['10.2.0.1', '10.2.0.1', 'private'],
    ['192.168.7.8', '192.168.7.8', 'private'],
    ['other.example.test', '10.2.3.4', 'private'],
    ['metadata.google.internal', '169.254.169.254', 'metadata'],
  ])('%s at %s is still refused', (host, address, reason) => {
    expect(guard.check(host, address)).toMatchObject({ host, address, reason });
  });

  test('the error names the address, why and the host', () => {
    expect(createSsrfGuard([]).check('internal.example.com', '10.0.0.5')?.message).toBe(
      'refused: 10.0.0.5 (private) for internal.example.com; allow it in network.allow',
    );
    expect(createSsrfGuard([]).check('::1', '::1')?.message).toBe('refused: ::1 (loopback); allow it in network.allow');
  });

  test.each(['10.0.0.0/33', '10.0.0.0/x', 'not a host', 'example.com/8', '::1/129'])(
    'invalid entry %p is a startup error',
    (entry) => {
      expect(() => createSsrfGuard([entry])).toThrow(`network.allow: "${entry}" is neither a CIDR nor a host name`);
    },
  );
});

describe('guarded lookup (injected resolver)', () => {
  const records: Record<string, string[]> = {
    'internal.example.test': ['10.0.0.7'],
    'mixed.example.test': ['93.184.216.34', '10.0.0.7'], // DNS rebinding with a mixed answer
    'public.example.test': ['93.184.216.34', '2606:2800:220:1::'],
  };
  const resolver: Resolver = async (hostname) => {
    const addresses = records[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  function lookup(allow: string[], hostname: string, options: LookupOptions) {
    const { lookup } = createSsrfGuard(allow, resolver);
    return new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>(
      (resolve) => lookup(hostname, options, (err, address, family) => resolve({ err, address, family })),
    );
  }

  test('a name resolving to a private address is refused', async () => {
    const { err } = await lookup([], 'internal.example.test', { all: true });
    expect(err).toBeInstanceOf(SsrfRefusedError);
    expect(err?.message).toBe('refused: 10.0.0.7 (private) for internal.example.test; allow it in network.allow');
  });

  test('one refused address among public ones refuses the host', async () => {
    expect((await lookup([], 'mixed.example.test', { all: true })).err).toMatchObject({
      address: '10.0.0.7',
      reason: 'private',
    });
  });

  test('public answers are passed on in the shape net.connect asked for', async () => {
    expect(await lookup([], 'public.example.test', { all: true })).toEqual({
      err: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::', family: 6 },
      ],
      family: undefined,
    });
    expect(await lookup([], 'public.example.test', {})).toEqual({ err: null, address: '93.184.216.34', family: 4 });
  });

  test('allowed by CIDR or by name', async () => {
    expect((await lookup(['10.0.0.0/8'], 'internal.example.test', {})).address).toBe('10.0.0.7');
    expect((await lookup(['internal.example.test'], 'internal.example.test', {})).address).toBe('10.0.0.7');
  });

  test('resolver errors pass through', async () => {
    expect((await lookup([], 'nx.example.test', {})).err?.code).toBe('ENOTFOUND');
  });
});

test('findSsrfRefusal searches the cause chain; ssrfFailure makes it a permanent SsrfRefused failure', () => {
  const refused = new SsrfRefusedError('internal.example.test', '10.0.0.7', 'private');
  const wrapped = new Error('fetch failed', { cause: new AggregateError([new Error('other'), refused]) });
  expect(findSsrfRefusal(wrapped)).toBe(refused);
  expect(findSsrfRefusal(new Error('connect ECONNREFUSED'))).toBeUndefined();
  expect(ssrfFailure(wrapped)).toMatchObject({ type: 'SsrfRefused', nonRetryable: true, message: refused.message });
  expect(ssrfFailure(new Error('connect ECONNREFUSED'))).toBeUndefined();
});

describe('undici agents (real sockets on loopback)', () => {
  let peer: FakeHttpPeer;
  const port = () => new URL(peer.url).port;

  beforeAll(async () => {
    peer = await new FakeHttpPeer(() => ({ status: 200 })).start();
    peer.on('/redirect', () => ({ status: 302, headers: { location: `${peer.url}/target` } }));
  });
  afterAll(() => peer.stop());

  async function refusal(agent: Agent | ReturnType<typeof createHttpAgent>, url: string) {
    const err = await request(url, { dispatcher: agent }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return findSsrfRefusal(err);
  }

  test('IP literals (no DNS lookup happens for them) and host names are refused at connect', async () => {
    const agent = createHttpAgent([]);
    try {
      expect(await refusal(agent, `${peer.url}/a`)).toMatchObject({ address: '127.0.0.1', reason: 'loopback' });
      expect(await refusal(agent, `http://[::ffff:127.0.0.1]:${port()}/b`)).toMatchObject({ reason: 'loopback' });
      expect(await refusal(agent, `http://[::1]:${port()}/c`)).toMatchObject({ address: '::1', reason: 'loopback' });
      expect(await refusal(agent, `http://localhost:${port()}/d`)).toMatchObject({
        host: 'localhost',
        reason: 'loopback',
      });
      expect(peer.requests).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });

  test('the TLS connector checks too (https through tls.connect)', async () => {
    const agent = new Agent({ connect: guardedConnector(createSsrfGuard([]), { rejectUnauthorized: false }) });
    try {
      expect(await refusal(agent, `https://localhost:${port()}/`)).toMatchObject({
        host: 'localhost',
        reason: 'loopback',
      });
      expect(await refusal(agent, `https://127.0.0.1:${port()}/`)).toMatchObject({ reason: 'loopback' });
    } finally {
      await agent.close();
    }
  });

  test('allowed loopback connects; a redirect is returned, not followed', async () => {
    const agent = createHttpAgent(['127.0.0.0/8']);
    try {
      const ok = await request(`${peer.url}/ok`, { dispatcher: agent });
      await ok.body.dump();
      expect(ok.statusCode).toBe(200);
      const redirect = await request(`${peer.url}/redirect`, { dispatcher: agent });
      await redirect.body.dump();
      expect(redirect.statusCode).toBe(302);
      expect(peer.requestsTo('/target')).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });
});
