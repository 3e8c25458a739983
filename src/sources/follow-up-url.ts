import type { FollowUpPlan } from '../shared/inbound';

/** What a follow-up needs of a `sources[]` entry (any kind); typed here, as ./index.ts imports this module. */
interface FollowUpSource {
  followUp?: { urls: Record<string, string> };
}

const EXPRESSION = /\{(\+?)([A-Za-z_][A-Za-z0-9_.]*)\}/g;

/**
 * Fills a follow-up URL template: `{Name}` with the percent-encoded value, `{+Name}` verbatim (RFC 6570
 * reserved expansion, for Ongoing's `path`). A missing value is reported (see planFollowUp).
 */
export function fillTemplate(template: string, vars: Record<string, string>): { url: string } | { missing: string } {
  let missing: string | undefined;
  const url = template.replace(EXPRESSION, (_whole, reserved: string, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      missing ??= name;
      return '';
    }
    return reserved ? value : encodeURIComponent(value);
  });
  return missing !== undefined ? { missing } : { url };
}

/**
 * What every expansion of a template keeps: its scheme, host and port, and the path written before the
 * first expression (`https://api.ongoingsystems.se/YourSystem/api/v1{+path}` stays under
 * `/YourSystem/api/v1`). Refused (a string saying why) when the template does not write them out.
 */
export interface TemplateBase {
  protocol: string;
  hostname: string;
  port: string;
  /** The path every expansion starts with. */
  pathPrefix: string;
  /** The literal text reaches into the query: the path is fixed. */
  exactPath: boolean;
}

export function templateBase(template: string): TemplateBase | string {
  const brace = template.indexOf('{');
  const literal = brace < 0 ? template : template.slice(0, brace);
  const parsed = /^https?:\/\/[^/?#{}@]+/i.test(literal) ? URL.parse(literal) : null;
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.username || parsed.password) {
    return 'must start with http:// or https:// and a host written out (no user:password@) before the first {expression}';
  }
  const exactPath = /[?#]/.test(literal);
  // `https://h/api/v1` parses to path `/api/v1`; `http://h:1` to `/`, which every path starts with.
  return {
    protocol: parsed.protocol,
    hostname: parsed.hostname,
    port: parsed.port,
    pathPrefix: parsed.pathname,
    exactPath,
  };
}

/** The path with encoded slashes and backslashes decoded and dot segments resolved, as a lenient server might read it. */
function leniently(pathname: string): string {
  return new URL(pathname.replace(/%2f|%5c/gi, '/'), 'http://h').pathname;
}

/**
 * An expanded follow-up URL, normalised (WHATWG: dot segments, `%2e`, backslashes resolved), if it keeps
 * the template's scheme, host, port and path prefix; else why not. The normalised form is what is
 * requested, so what was checked is what is fetched.
 */
export function confineFollowUpUrl(template: string, url: string): { url: string } | { refused: string } {
  const base = templateBase(template);
  if (typeof base === 'string') return { refused: `the follow-up URL template ${base}` };
  const parsed = URL.parse(url);
  if (!parsed) return { refused: 'the expanded follow-up URL is not a valid URL' };
  if (parsed.username || parsed.password) return { refused: 'the expanded follow-up URL carries user:password@' };
  if (parsed.protocol !== base.protocol || parsed.hostname !== base.hostname || parsed.port !== base.port) {
    return { refused: "the expanded follow-up URL leaves the template's scheme, host or port" };
  }
  // By whole segments: `/api/v1` keeps `/api/v1/orders` but not `/api/v1-admin`.
  const under = base.pathPrefix.endsWith('/') ? base.pathPrefix : `${base.pathPrefix}/`;
  const inside = (path: string) => path === base.pathPrefix || (!base.exactPath && path.startsWith(under));
  if (!inside(parsed.pathname) || !inside(leniently(parsed.pathname))) {
    return { refused: "the expanded follow-up URL leaves the template's path" };
  }
  return { url: parsed.href };
}

export function planFollowUp(source: FollowUpSource, eventType: string, vars: Record<string, string>): FollowUpPlan {
  const templates = source.followUp?.urls ?? {};
  const own = templates[eventType];
  const template = own ?? templates['*'];
  if (!template) return { kind: 'none' };
  const filled = fillTemplate(template, vars);
  // A template for this event type that cannot be filled is a problem with the event. The catch-all `*`
  // serves every event type of the source: one without its value (an Ongoing family without `path`,
  // such as inbound and move or inventory) has no follow-up and goes on without one.
  if ('missing' in filled)
    return own === undefined
      ? { kind: 'none' }
      : { kind: 'unavailable', reason: `the event has no value for {${filled.missing}}` };
  // An event value must not steer the request (with the source API's credentials) elsewhere.
  const confined = confineFollowUpUrl(template, filled.url);
  if ('refused' in confined) return { kind: 'unavailable', reason: confined.refused };
  return { kind: 'fetch', url: confined.url };
}

/** Does any of the source's templates confine this URL? (The activity checks again before fetching.) */
export function allowedFollowUpUrl(source: FollowUpSource, url: string): { url: string } | { refused: string } {
  let last: { refused: string } = { refused: 'the source has no follow-up URL templates' };
  for (const template of Object.values(source.followUp?.urls ?? {})) {
    const confined = confineFollowUpUrl(template, url);
    if ('url' in confined) return confined;
    last = confined;
  }
  return last;
}
