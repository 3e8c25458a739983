import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  PROBE_FIRST_MS,
  PROBE_MAX_MS,
  gateConfigSignal,
  gateDoneSignal,
  gatePermitSignal,
  gateRequestSignal,
  gateStateQuery,
  type GateCarried,
  type GateInput,
  type GateState,
} from '../shared/gate';

const { releaseBreakerHold } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '30 seconds' },
});

/** Idle this long (nothing waiting, nothing out, not held), the gate ends; the next signalWithStart starts it. */
const IDLE_MS = 60_000;
/** Permits signalled per workflow task: a release of 10,000 goes out in steps a workflow task can carry. */
const BATCH = 200;
/** Continue-as-new well before Temporal's suggestion: the gate's history stays short to replay. */
const HISTORY_LIMIT = 5_000;
/** An unanswered permit expires this long after the receiver timeout (a terminated delivery frees its slot). */
const PERMIT_SLACK_MS = 60_000;

interface Waiting {
  id: string;
  at: number;
}

/**
 * `gate/<subscriptionId>`: the permits to send of a held or throttled subscription, for every worker and
 * API replica at once. Deliveries that meet a hold or a throttle ask (`request`), oldest first by the time
 * they were queued; the gate grants (`permit`, to the delivery workflow) at most `rateLimit` per second
 * (token bucket) and at most `maxInFlight` unanswered (`done` answers). Held, it grants nothing, except
 * under the breaker's hold: one probe at growing intervals, whose delivery releases the subscription.
 * Idle for a minute, it ends.
 */
export async function gateWorkflow(input: GateInput): Promise<void> {
  const { subscriptionId } = input;
  let config = input.config;
  const carried = input.carried;
  const historyLimit = input.historyLimit ?? HISTORY_LIMIT;

  // Compact queue entries in continue-as-new: `delivery/<eventId>/<subscriptionId>` keeps only its middle.
  const prefix = 'delivery/';
  const suffix = `/${subscriptionId}`;
  const pack = ({ id, at }: Waiting) =>
    `${at.toString(36)} ${id.startsWith(prefix) && id.endsWith(suffix) ? `~${id.slice(prefix.length, -suffix.length)}` : id}`;
  const unpack = (entry: string): Waiting => {
    const space = entry.indexOf(' ');
    const id = entry.slice(space + 1);
    return {
      at: parseInt(entry.slice(0, space), 36),
      id: id.startsWith('~') ? `${prefix}${id.slice(1)}${suffix}` : id,
    };
  };

  const queue: Waiting[] = (carried?.queue ?? []).map(unpack);
  const queued = new Set(queue.map((entry) => entry.id));
  const inFlight = new Map<string, { grant: number; expiresAt: number }>(
    (carried?.inFlight ?? []).map(([id, grant, expiresAt]) => [id, { grant, expiresAt }]),
  );
  let grants = carried?.grants ?? 0;
  const burst = () => Math.max(1, config.rateLimit ?? 1);
  let tokens = carried?.tokens ?? burst();
  let refilledAt = Date.now();
  let probeIntervalMs = carried?.probeIntervalMs ?? PROBE_FIRST_MS;
  let nextProbeAt = carried?.nextProbeAt ?? (config.hold?.by === 'breaker' ? Date.now() + PROBE_FIRST_MS : undefined);
  let probe = carried?.probe;
  let probeDelivered = false;
  let wake = false;

  const probeFailed = () => {
    probe = undefined;
    nextProbeAt = Date.now() + probeIntervalMs;
  };
  const endPermit = (id: string, delivered: boolean) => {
    inFlight.delete(id);
    if (probe === id) {
      if (delivered) {
        probe = undefined;
        probeDelivered = true;
      } else probeFailed();
    }
    wake = true;
  };

  setHandler(gateRequestSignal, ({ workflowId, queuedAt }) => {
    // Asking again ends the delivery's earlier permit (its invocation is over).
    if (inFlight.has(workflowId)) endPermit(workflowId, false);
    if (queued.has(workflowId)) return;
    queued.add(workflowId);
    // Sorted by queuedAt, oldest first; equal times keep their arrival order.
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (queue[mid]!.at <= queuedAt) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, { id: workflowId, at: queuedAt });
    wake = true;
  });
  setHandler(gateDoneSignal, ({ workflowId, grant, delivered }) => {
    const out = inFlight.get(workflowId);
    if (!out || (grant !== undefined && out.grant !== grant)) return; // late: that permit ended already
    endPermit(workflowId, delivered);
  });
  setHandler(gateConfigSignal, (next) => {
    if (next.updatedAt < config.updatedAt) return; // an older change overtaken by a newer one
    const wasBreaker = config.hold?.by === 'breaker';
    config = next;
    if (config.hold?.by === 'breaker' && !wasBreaker) {
      probeIntervalMs = PROBE_FIRST_MS;
      nextProbeAt = Date.now() + PROBE_FIRST_MS;
    }
    if (config.hold?.by !== 'breaker') nextProbeAt = undefined;
    tokens = Math.min(tokens, burst());
    wake = true;
  });
  setHandler(gateStateQuery, (): GateState => ({
    held: config.hold !== undefined,
    ...(config.hold ? { since: config.hold.since, by: config.hold.by } : {}),
    waiting: queue.length,
    inFlight: inFlight.size,
    ...(config.rateLimit !== undefined ? { rateLimit: config.rateLimit } : {}),
    ...(config.maxInFlight !== undefined ? { maxInFlight: config.maxInFlight } : {}),
    ...(nextProbeAt !== undefined && config.hold?.by === 'breaker'
      ? { nextProbeAt: new Date(nextProbeAt).toISOString() }
      : {}),
  }));

  const refill = () => {
    const now = Date.now();
    if (config.rateLimit !== undefined)
      tokens = Math.min(burst(), tokens + ((now - refilledAt) * config.rateLimit) / 1000);
    refilledAt = now;
  };
  const expire = () => {
    const now = Date.now();
    for (const [id, out] of inFlight) if (out.expiresAt <= now) endPermit(id, false);
  };

  /** Permit signals not completed yet: continue-as-new and the end wait for them. */
  let sending = 0;
  const permit = async (id: string, grant: number, isProbe: boolean) => {
    sending += 1;
    try {
      await getExternalWorkflowHandle(id).signal(gatePermitSignal, { grant, ...(isProbe ? { probe: true } : {}) });
    } catch (err) {
      // The delivery is gone (terminated, reset): its slot is free again.
      log.info('gate: permit not delivered', { workflowId: id, error: (err as Error).message });
      if (inFlight.get(id)?.grant === grant) endPermit(id, false);
    } finally {
      sending -= 1;
    }
  };

  /** The permits this workflow task may grant now, oldest first. */
  const grantable = () => {
    refill();
    const batch: Promise<void>[] = [];
    while (queue.length > 0 && batch.length < BATCH) {
      let isProbe = false;
      if (config.hold) {
        if (config.hold.by !== 'breaker' || probe || nextProbeAt === undefined || Date.now() < nextProbeAt) break;
        isProbe = true;
      }
      if (config.maxInFlight !== undefined && inFlight.size >= config.maxInFlight) break;
      if (config.rateLimit !== undefined) {
        if (tokens < 1) break;
        tokens -= 1;
      }
      const next = queue.shift()!;
      queued.delete(next.id);
      grants += 1;
      inFlight.set(next.id, { grant: grants, expiresAt: Date.now() + config.timeoutMs + PERMIT_SLACK_MS });
      if (isProbe) {
        probe = next.id;
        nextProbeAt = undefined;
        log.info('gate: probing the held subscription', { subscriptionId, workflowId: next.id });
      }
      batch.push(permit(next.id, grants, isProbe));
      if (isProbe) {
        probeIntervalMs = Math.min(probeIntervalMs * 2, PROBE_MAX_MS);
        break;
      }
    }
    return batch;
  };

  /** How long to sleep when nothing can be granted now (undefined: until a signal). */
  const nextWake = (): number | undefined => {
    const now = Date.now();
    const times: number[] = [];
    for (const out of inFlight.values()) times.push(out.expiresAt);
    if (queue.length > 0) {
      if (config.hold?.by === 'breaker' && !probe && nextProbeAt !== undefined) times.push(nextProbeAt);
      const slotFree = config.maxInFlight === undefined || inFlight.size < config.maxInFlight;
      if (!config.hold && slotFree && config.rateLimit !== undefined && tokens < 1)
        times.push(now + Math.ceil(((1 - tokens) * 1000) / config.rateLimit));
    }
    return times.length ? Math.max(1, Math.min(...times) - now) : undefined;
  };

  const carry = (): GateCarried => ({
    queue: queue.map(pack),
    inFlight: [...inFlight].map(([id, out]) => [id, out.grant, out.expiresAt]),
    grants,
    tokens,
    probeIntervalMs,
    ...(nextProbeAt !== undefined ? { nextProbeAt } : {}),
    ...(probe ? { probe } : {}),
  });

  for (;;) {
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit) {
      await condition(() => sending === 0 && allHandlersFinished());
      await continueAsNew<typeof gateWorkflow>({
        subscriptionId,
        config,
        carried: carry(),
        ...(input.historyLimit !== undefined ? { historyLimit } : {}),
      });
    }
    expire();
    if (probeDelivered) {
      probeDelivered = false;
      if (config.hold?.by === 'breaker') {
        log.info('gate: probe delivered, releasing the subscription', { subscriptionId });
        await releaseBreakerHold({ subscriptionId });
        // The subscription's own config signal follows; until then the gate grants as released.
        config = { ...config };
        delete config.hold;
        nextProbeAt = undefined;
      }
      continue;
    }
    // A full batch is awaited (its signals go out before the next); a smaller one goes out with this workflow
    // task while the gate waits for the next `done`: a throttled gate takes one task per permit, not two.
    const batch = grantable();
    if (batch.length >= BATCH) {
      await Promise.all(batch);
      continue;
    }
    wake = false;
    if (queue.length === 0 && inFlight.size === 0 && !config.hold) {
      if (await condition(() => wake, IDLE_MS)) continue;
      await condition(() => sending === 0 && allHandlersFinished());
      if (queue.length === 0 && inFlight.size === 0 && !config.hold) return;
      continue;
    }
    const timeout = nextWake();
    if (timeout === undefined) await condition(() => wake);
    else await condition(() => wake, timeout);
  }
}
