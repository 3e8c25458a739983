/**
 * A URL as logged: every query value is replaced, whatever its parameter's name (`?next=<token>`,
 * `?x=<token>` carry credentials as well as `?token=`); names stay, so the log still tells which
 * parameters a request had. `?flag` without a value and empty values are kept as sent.
 */
export function redactQueryValues(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const hash = url.indexOf('#', at);
  const query = url.slice(at + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 || eq === pair.length - 1 ? pair : `${pair.slice(0, eq)}=[Redacted]`;
    })
    .join('&');
  return `${url.slice(0, at + 1)}${redacted}${hash === -1 ? '' : '#[Redacted]'}`;
}
