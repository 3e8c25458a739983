/**
 * Values that come from sources end up in places with hard limits: PostgreSQL visibility stores
 * workflow ids and Keyword search attributes as VARCHAR(255), rejects NUL, and HTTP header values
 * must be visible ASCII. Pure functions (no Node modules): workflow code imports this module's neighbours.
 */

export const MAX_STORED_CHARS = 255;

/** Cuts to at most `max` UTF-16 units without leaving half of a surrogate pair at the end. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, end);
}

/** 64-bit FNV-1a of the UTF-8 bytes, as 16 hex digits: enough to keep shortened ids distinct. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * A workflow id that fits every persistence: ids over 255 characters keep a readable prefix and end
 * in `~` and a hash of the whole id, so the same event still maps to the same id (deduplication).
 */
export function boundedWorkflowId(id: string): string {
  if (id.length <= MAX_STORED_CHARS) return id;
  return `${cut(id, MAX_STORED_CHARS - 17)}~${fnv1a64(id)}`;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const EVERY_CONTROL = new RegExp(CONTROL.source, 'g');

/** A Keyword search attribute value: control characters dropped, at most 255 characters (search only). */
export function keywordValue(value: string): string {
  return cut(value.replace(EVERY_CONTROL, ''), MAX_STORED_CHARS);
}

export const hasControlCharacters = (value: string) => CONTROL.test(value);

/** An HTTP header value: UTF-8 percent-encoded outside visible ASCII (and `%` itself), like a URL. */
export function headerValue(value: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(value)) return value;
  let out = '';
  for (const byte of new TextEncoder().encode(value)) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
