import type { SourceConfig } from '../config/schema';
import type { FollowUpPlan } from '../shared/inbound';

/**
 * Fills a follow-up URL template: `{Name}` with the percent-encoded value, `{+Name}` verbatim (RFC 6570
 * reserved expansion, for Ongoing's `path`). A missing value makes the follow-up unavailable.
 */
export function fillTemplate(template: string, vars: Record<string, string>): { url: string } | { missing: string } {
  let missing: string | undefined;
  const url = template.replace(/\{(\+?)([A-Za-z_][A-Za-z0-9_.]*)\}/g, (_whole, reserved: string, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      missing ??= name;
      return '';
    }
    return reserved ? value : encodeURIComponent(value);
  });
  return missing !== undefined ? { missing } : { url };
}

export function planFollowUp(source: SourceConfig, eventType: string, vars: Record<string, string>): FollowUpPlan {
  const templates = source.followUp?.urls ?? {};
  const template = templates[eventType] ?? templates['*'];
  if (!template) return { kind: 'none' };
  const filled = fillTemplate(template, vars);
  if ('missing' in filled) return { kind: 'unavailable', reason: `the event has no value for {${filled.missing}}` };
  return { kind: 'fetch', url: filled.url };
}
