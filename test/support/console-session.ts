import type { FastifyInstance } from 'fastify';

/** The form encoding of the console's POSTs. */
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The CSRF token a console page carries in its forms. */
export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

/**
 * A browser's cookie jar for the console through app.inject: `get` and `post` send the jar and keep what
 * the answer sets. `app` is a getter because the harness is built in beforeAll, after the tests' modules load.
 */
export function consoleSession(app: () => FastifyInstance) {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (setCookie: string | string[] | undefined) => {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const get = async (url: string) => {
    const res = await app().inject({ url, headers: { cookie: cookie() } });
    keep(res.headers['set-cookie']);
    return res;
  };
  /** A form post with a fresh CSRF token (from the new-subscription page), as a browser sends it. */
  const post = async (url: string, fields: Record<string, string>) => {
    const page = await get('/console/subscriptions/new');
    const res = await app().inject({
      method: 'POST',
      url,
      headers: { ...FORM, cookie: cookie() },
      payload: new URLSearchParams({ ...fields, _csrf: csrfOf(page.body) }).toString(),
    });
    keep(res.headers['set-cookie']);
    return res;
  };
  return { jar, cookie, keep, get, post };
}
