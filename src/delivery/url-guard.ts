/**
 * The SSRF guard for sink targets: Rivulet sends events to URLs that users configure (and that
 * a URL template may fill from event data), so without a guard anyone who can create a sink
 * could make the server call its own admin ports, the cloud metadata service at
 * 169.254.169.254, or anything else on the private network.
 *
 * Two halves, both needed:
 * - `check(url)` before each request: http(s) only, and the host — an IP literal in any of
 *   its spellings (the URL parser normalises `2130706433`, `0x7f.1`, `[::ffff:7f00:1]`), or a
 *   name, resolved — must not be in a refused range;
 * - `lookup`, given to the HTTP client as its DNS lookup (undici `connect.lookup`), checks the
 *   addresses actually connected to. A name can resolve to a public address when checked and
 *   to 127.0.0.1 a second later (DNS rebinding); only a connect-time check closes that gap.
 *   Node does not call `lookup` for IP literals, which `check` has already settled for good.
 *
 * Only globally routable unicast addresses pass. Loopback, private ranges and named hosts or
 * CIDRs can be opened by the operator (`allowLoopback`, `allowPrivate`, `allowHosts`,
 * `allowCidrs`); link-local (cloud metadata) and the other special ranges only by CIDR.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RivuletError } from '../kernel/errors.js';
import { redactedUrl } from '../kernel/secret-urls.js';

export interface UrlGuardOptions {
  /** private networks: 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7 */
  allowPrivate?: boolean;
  /** 127/8 and ::1 (and `localhost`), on their own, e.g. for tests or a receiver on the same host */
  allowLoopback?: boolean;
  /** host names let through without any address check: `hooks.internal` or `*.svc.cluster.local` */
  allowHosts?: string[];
  /** address ranges let through whatever they are, e.g. `10.20.0.0/16` or `169.254.170.2/32` */
  allowCidrs?: string[];
  /** name resolution; defaults to the system resolver (dns.lookup), replaceable in tests */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export interface UrlCheck {
  url: URL;
  /** the addresses checked (empty when the host was let through by name) */
  addresses: string[];
  /** worth showing to whoever configured the URL, e.g. credentials in it */
  notes: string[];
}

export interface UrlGuard {
  /** Refuses (TARGET_URL_FORBIDDEN) a URL Rivulet must not call; DNS errors are passed on as they are. */
  check(url: string): Promise<UrlCheck>;
  /** A drop-in for net/undici's `lookup` that refuses the same addresses at connect time. */
  lookup: LookupFunction;
}

type Ipv4 = ipaddr.IPv4;
type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/** Ranges `allowPrivate` opens (names as ipaddr.js `range()` gives them). */
const PRIVATE_RANGES = new Set(['private', 'carrierGradeNat', 'uniqueLocal']);

/** Names that are loopback by definition (RFC 6761), whatever a resolver says. */
function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

export function createUrlGuard(options: UrlGuardOptions = {}): UrlGuard {
  const policy = compilePolicy(options);
  const resolve = options.resolve ?? systemResolve;

  async function check(raw: string): Promise<UrlCheck> {
    const url = parseTarget(raw);
    const notes =
      url.username !== '' || url.password !== ''
        ? ['the URL carries credentials; prefer basic_auth, which is kept out of logs and URLs']
        : [];
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const name = normaliseHost(hostname);
    if (policy.hostAllowed(name)) return { url, addresses: [], notes: [...notes, `host ${name} is allowed by name`] };
    const addresses = await addressesOf(hostname, name, resolve);
    for (const address of addresses) policy.assertAllowed(hostname, address);
    return { url, addresses, notes };
  }

  async function allowedAddresses(hostname: string, family: number | string | undefined): Promise<LookupAddress[]> {
    const found = await dnsAll(resolve, hostname, family);
    if (!policy.hostAllowed(normaliseHost(hostname)))
      for (const { address } of found) policy.assertAllowed(hostname, address);
    return found;
  }

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    // then(ok, fail) rather than then().catch(): an exception thrown by the callback itself
    // must not call it a second time.
    allowedAddresses(hostname, lookupOptions.family).then(
      (found) => {
        const [first] = found;
        if (lookupOptions.all === true) callback(null, found);
        else if (first !== undefined) callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };

  return Object.freeze({ check, lookup });
}

// ---------------------------------------------------------------------------------------

interface Policy {
  hostAllowed(hostname: string): boolean;
  /** throws TARGET_URL_FORBIDDEN naming the host, the address and its range */
  assertAllowed(hostname: string, address: string): void;
}

function compilePolicy(options: UrlGuardOptions): Policy {
  const hosts = (options.allowHosts ?? []).map(normaliseHost);
  const cidrs = (options.allowCidrs ?? []).map(parseCidr);
  const rangeAllowed = (range: string): boolean =>
    range === 'unicast' ||
    (range === 'loopback' && options.allowLoopback === true) ||
    (PRIVATE_RANGES.has(range) && options.allowPrivate === true);
  return {
    hostAllowed: (hostname) =>
      hosts.some((pattern) => (pattern.startsWith('*.') ? hostname.endsWith(pattern.slice(1)) : hostname === pattern)),
    assertAllowed(hostname, address) {
      const ip = parseIp(address);
      if (ip === undefined) throw forbidden(hostname, address, 'not an IP address');
      const effective = embeddedIpv4(ip) ?? ip;
      if (cidrs.some((cidr) => inCidr(ip, cidr) || inCidr(effective, cidr))) return;
      const range = effective.range();
      if (rangeAllowed(range)) return;
      throw forbidden(hostname, address, effective === ip ? range : `${range} (as IPv4 ${effective.toString()})`);
    },
  };
}

function forbidden(hostname: string, address: string, range: string): RivuletError {
  const via = hostname === address ? `${address}` : `${hostname} (${address})`;
  return new RivuletError('TARGET_URL_FORBIDDEN', `Target ${via} is in the ${range} range, which sinks may not call`, {
    details: { host: hostname, address, range },
  });
}

function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RivuletError('BAD_REQUEST', `${JSON.stringify(redactedUrl(raw))} is not a valid URL`, {
      details: { url: redactedUrl(raw) },
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RivuletError(
      'TARGET_URL_FORBIDDEN',
      `Target URL scheme ${url.protocol} is not allowed; use http or https`,
      {
        details: { url: redactedUrl(raw), scheme: url.protocol.replace(/:$/, '') },
      },
    );
  }
  return url;
}

/** For comparing names: lower case, without the trailing root dot. */
function normaliseHost(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

/** An IP literal is its own address; `localhost` names are loopback without asking DNS. */
async function addressesOf(
  hostname: string,
  name: string,
  resolve: (hostname: string) => Promise<LookupAddress[]>,
): Promise<string[]> {
  if (parseIp(hostname) !== undefined) return [hostname];
  if (isLocalhostName(name)) return ['127.0.0.1'];
  return (await resolve(hostname)).map((a) => a.address);
}

function parseIp(text: string): Ip | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  // Only dotted-quad IPv4 is an address here; other spellings were normalised by the URL
  // parser, and a resolver never returns them.
  if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return ipaddr.parse(text);
}

function parseCidr(text: string): [Ip, number] {
  try {
    return ipaddr.parseCIDR(text);
  } catch {
    throw new RivuletError(
      'BAD_REQUEST',
      `allowCidrs entry ${JSON.stringify(text)} is not a CIDR range (e.g. 10.0.0.0/8)`,
      { details: { cidr: text } },
    );
  }
}

function inCidr(ip: Ip, [network, bits]: [Ip, number]): boolean {
  return ip.kind() === network.kind() && ip.match(network, bits);
}

/**
 * The IPv4 address an IPv6 address stands for, where it embeds one: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), the deprecated IPv4-compatible
 * (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002:AABB:CCDD::/48). Each can reach that IPv4
 * address, so each is judged as it.
 */
function embeddedIpv4(ip: Ip): Ipv4 | undefined {
  if (ip.kind() !== 'ipv6') return undefined;
  const v6 = ip as ipaddr.IPv6;
  const p = v6.parts;
  const fromWords = (hi: number, lo: number): Ipv4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const word = (i: number): number => p[i] ?? 0;
  const zeros = (from: number, to: number): boolean => p.slice(from, to).every((x) => x === 0);
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  if (zeros(0, 4) && word(4) === 0xffff && word(5) === 0) return fromWords(word(6), word(7));
  if (zeros(0, 6) && (word(6) !== 0 || word(7) > 1)) return fromWords(word(6), word(7));
  if (word(0) === 0x64 && word(1) === 0xff9b && zeros(2, 6)) return fromWords(word(6), word(7));
  if (word(0) === 0x2002) return fromWords(word(1), word(2));
  return undefined;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

function systemResolve(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });
}

async function dnsAll(
  resolve: (hostname: string) => Promise<LookupAddress[]>,
  hostname: string,
  family: number | string | undefined,
): Promise<LookupAddress[]> {
  const wanted = family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;
  const found = await resolve(hostname);
  const matching = wanted === 0 ? found : found.filter((a) => a.family === wanted);
  if (matching.length === 0) throw notFound(hostname);
  return matching;
}
