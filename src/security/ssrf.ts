import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * SSRF guard for hookflow's outbound requests (follow-up fetches, deliveries): a subscriber or a
 * source's URL must not make the worker call itself, the internal network or a cloud metadata service.
 * Checked on the addresses a host name resolves to, at connect time, so DNS cannot smuggle an
 * internal address past a check of the URL. `network.allow` (CIDRs or host names) makes exceptions.
 */

export type RefusalReason =
  | 'metadata'
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'not an IP address';

// First match wins, so the metadata addresses come before the ranges that contain them.
const REFUSED: Array<[RefusalReason, string[]]> = [
  ['metadata', ['169.254.169.254/32', '100.100.100.200/32', 'fd00:ec2::254/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['unspecified', ['0.0.0.0/8', '::/128']], // Linux connects 0.0.0.0 to this host
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fec0::/10']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['cgnat', ['100.64.0.0/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  ['broadcast', ['255.255.255.255/32']],
  // Class E, IETF protocol, documentation and benchmark ranges, IPv4-compatible IPv6: never a real receiver.
  [
    'reserved',
    [
      '240.0.0.0/4',
      '192.0.0.0/24',
      '192.0.2.0/24',
      '198.18.0.0/15',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '::/96',
      '100::/64',
      '2001:db8::/32',
    ],
  ],
];

/** Adds `cidr` (or a bare address, a /32 or /128) to `list`; false if it is not one. */
function addCidr(list: BlockList, cidr: string): boolean {
  const [net = '', prefix, ...rest] = cidr.split('/');
  const family = isIP(net);
  const bits = family === 6 ? 128 : 32;
  if (!family || rest.length || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= bits)))
    return false;
  list.addSubnet(net, prefix === undefined ? bits : Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
  return true;
}

/** A BlockList of CIDRs (or bare addresses); throws on an entry that is neither. */
export function cidrBlockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) if (!addCidr(list, cidr)) throw new Error(`"${cidr}" is not a CIDR or an IP address`);
  return list;
}

const refusedLists = REFUSED.map(([reason, cidrs]): [RefusalReason, BlockList] => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    addCidr(list, cidr);
    // The same IPv4 range behind the NAT64 well-known prefix (64:ff9b::a.b.c.d) reaches the same hosts.
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) needs nothing: BlockList matches it against IPv4 ranges itself.
    const [net, prefix] = cidr.split('/');
    if (isIP(net!) === 4) list.addSubnet(`64:ff9b::${net}`, 96 + Number(prefix), 'ipv6');
  }
  return [reason, list];
});

const familyOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** Why `address` is refused when nothing allows it; undefined for a public address. */
export function classifyAddress(address: string): RefusalReason | undefined {
  if (!isIP(address)) return 'not an IP address';
  return refusedLists.find(([, list]) => list.check(address, familyOf(address)))?.[0];
}

export class SsrfRefusedError extends Error {
  override readonly name = 'SsrfRefusedError';
  readonly code = 'ERR_SSRF_REFUSED';

  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: RefusalReason,
  ) {
    super(`refused: ${address} (${reason})${host === address ? '' : ` for ${host}`}; allow it in network.allow`);
  }
}

/** Resolves every address of a host name (dns.lookup with `all: true`); injectable for tests. */
export type Resolver = (hostname: string, options: LookupOptions) => Promise<LookupAddress[]>;
const resolveAll: Resolver = (hostname, options) => dns.lookup(hostname, { ...options, all: true });

export interface SsrfGuard {
  /** The refusal for connecting to `address` on behalf of the URL host `host`, if any. */
  check(host: string, address: string): SsrfRefusedError | undefined;
  /** A dns.lookup for net/tls.connect: resolves all addresses and fails if any one is refused. */
  lookup: LookupFunction;
}

const normalizeHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** The guard for a `network.allow` list; an entry that is neither a CIDR nor a host name throws. */
export function createSsrfGuard(allow: readonly string[], resolve: Resolver = resolveAll): SsrfGuard {
  const allowedNets = new BlockList();
  const allowedHosts = new Set<string>();
  for (const entry of allow) {
    if (addCidr(allowedNets, entry)) continue;
    if (entry.includes('/') || !/^[a-z0-9.-]+$/i.test(entry))
      throw new Error(`network.allow: "${entry}" is neither a CIDR nor a host name`);
    allowedHosts.add(normalizeHost(entry));
  }

  const check = (host: string, address: string) => {
    if (allowedHosts.has(normalizeHost(host))) return undefined;
    const reason = classifyAddress(address);
    if (!reason || (isIP(address) && allowedNets.check(address, familyOf(address)))) return undefined;
    return new SsrfRefusedError(host, address, reason);
  };

  const lookup: LookupFunction = (hostname, options, callback) => {
    void resolve(hostname, options).then(
      (addresses) => {
        // Any refused answer refuses the host: a mix of public and internal records is a rebinding trick.
        const refused = addresses.map((a) => check(hostname, a.address)).find((e) => e !== undefined);
        const [first] = addresses;
        if (refused || !first)
          return callback(
            refused ?? Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
            '',
          );
        if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };

  return { check, lookup };
}

/** The SsrfRefusedError in an error's cause chain (undici and AggregateErrors may wrap it), if any. */
export function findSsrfRefusal(err: unknown, depth = 0): SsrfRefusedError | undefined {
  if (err instanceof SsrfRefusedError) return err;
  if (!(err instanceof Error) || depth > 8) return undefined;
  const nested = [err.cause, ...(err instanceof AggregateError ? err.errors : [])];
  for (const inner of nested) {
    const found = findSsrfRefusal(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
