import type { Client } from '@temporalio/client';

/**
 * How long Temporal keeps closed workflows: the namespace's retention (72 h as the production scripts
 * create it). Deliveries are listed, retried (singly or in bulk) and events replayed or recognised as
 * duplicates only as long as their workflows are kept. Read from Temporal, cached for 5 minutes.
 */
const TTL_MS = 5 * 60_000;
const cache = new Map<string, { at: number; ms: number | null }>();

export async function namespaceRetentionMs(client: Client, namespace: string): Promise<number | null> {
  const hit = cache.get(namespace);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.ms;
  const ms = await client.workflowService
    .describeNamespace({ namespace })
    .then((d) => {
      const ttl = d.config?.workflowExecutionRetentionTtl;
      return ttl ? Number(ttl.seconds ?? 0) * 1000 + Math.floor((ttl.nanos ?? 0) / 1e6) : null;
    })
    .catch(() => null);
  cache.set(namespace, { at: Date.now(), ms });
  return ms;
}

/** A retention in words: `72 h`, `7 days`. */
export function retentionWords(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 48 && hours % 24 === 0 && hours !== 72) return `${hours / 24} days`;
  return Number.isInteger(hours) ? `${hours} h` : `${Math.round(ms / 60_000)} min`;
}
