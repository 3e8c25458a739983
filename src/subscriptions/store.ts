import {
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { listSubscriptionIds, readSubscription, subscriptionsQuery } from './lookup';
import { ConflictError, HookflowError, InvalidPayloadError, NotFoundError, UnavailableError } from '../errors';
import type { Keyring } from '../security/keyring';
import {
  SUBSCRIPTION_MEMO,
  applySubscriptionUpdate,
  deleteSubscriptionUpdate,
  getSubscriptionQuery,
  subscriptionWorkflowId,
  testSignal,
  type Subscription,
  type SubscriptionPatch,
  type SubscriptionWorkflow,
} from '../shared/subscription';
import { subscriptionSearchAttributes } from '../shared/subscription-limits';
import type { CreateSubscriptionInput, UpdateSubscriptionInput } from './schema';
import { toPatch } from './seal';

export interface StoreTimeouts {
  /** A read (describe, visibility list) Temporal does not answer within this is a 503 with Retry-After. */
  readTimeoutMs: number;
  /** Only for runs from before the memo existed, which can be read with a query only. */
  legacyQueryTimeoutMs: number;
}

const DEFAULT_TIMEOUTS: StoreTimeouts = { readTimeoutMs: 5_000, legacyQueryTimeoutMs: 2_000 };

/**
 * Subscriptions live in Temporal, one `subscription/<id>` workflow each: no other database. This is the
 * API's (and the worker's, for subscriptions declared in the config file) way to change and read them.
 *
 * Reads never wait for a workflow task: they answer from the workflow's memo (describe, answered by the
 * history service from the execution's state) and from visibility, so a busy or stopped worker does not
 * slow them down. The memo is set at start by `create`, and rewritten by the workflow in the same task
 * that completes each update, so a read right after an acknowledged write sees it. Writes (updates,
 * signals) may wait for the workflow.
 */
export class SubscriptionStore {
  private readonly timeouts: StoreTimeouts;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly keyring: Keyring,
    timeouts: Partial<StoreTimeouts> = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }

  async create(input: CreateSubscriptionInput): Promise<Subscription> {
    const now = new Date().toISOString();
    const subscription = { ...toPatch(input, this.keyring), createdAt: now, updatedAt: now } as Subscription;
    try {
      await this.client.workflow.start<SubscriptionWorkflow>('subscriptionWorkflow', {
        taskQueue: this.taskQueue,
        workflowId: subscriptionWorkflowId(input.id),
        args: [{ subscription }],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE', // a deleted id can be created again
        typedSearchAttributes: subscriptionSearchAttributes(subscription),
        // Readable from the start, before the workflow's first task has run (a busy worker).
        memo: { [SUBSCRIPTION_MEMO]: subscription },
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new ConflictError(`subscription "${input.id}" already exists`);
      throw err;
    }
    return subscription;
  }

  /** Create or replace by id (subscriptions declared in the config file). */
  async upsert(input: CreateSubscriptionInput): Promise<Subscription> {
    const startWorkflowOperation = new WithStartWorkflowOperation<SubscriptionWorkflow>('subscriptionWorkflow', {
      taskQueue: this.taskQueue,
      workflowId: subscriptionWorkflowId(input.id),
      args: [{ subscription: null }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return this.client.workflow.executeUpdateWithStart(applySubscriptionUpdate, {
      args: [toPatch(input, this.keyring)],
      startWorkflowOperation,
    });
  }

  async get(id: string): Promise<Subscription> {
    const subscription = await this.read(id);
    if (!subscription) throw new NotFoundError(`subscription "${id}" does not exist`);
    return subscription;
  }

  /** Listed through visibility (may trail a create by well under a second), read from each workflow's memo. */
  async list(): Promise<Subscription[]> {
    const ids = await this.bounded('the subscription list', this.timeouts.readTimeoutMs, () =>
      listSubscriptionIds(this.client, subscriptionsQuery(this.taskQueue)),
    );
    const all = await inBatches(ids, LIST_CONCURRENCY, (id) => this.read(id));
    return all.filter((s): s is Subscription => s !== null).sort((a, b) => a.id.localeCompare(b.id));
  }

  async update(id: string, input: UpdateSubscriptionInput): Promise<Subscription> {
    return this.apply(id, toPatch(input, this.keyring));
  }

  async setActive(id: string, active: boolean): Promise<Subscription> {
    return this.apply(id, { active, ...(active ? { disabledReason: null } : {}) });
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.client.workflow.getHandle(subscriptionWorkflowId(id)).executeUpdate(deleteSubscriptionUpdate);
  }

  /** Ongoing's Test button: the same as `temporal workflow signal --workflow-id subscription/<id> --name test`. */
  async test(id: string): Promise<void> {
    await this.get(id);
    await this.client.workflow.getHandle(subscriptionWorkflowId(id)).signal(testSignal);
  }

  private async apply(id: string, patch: SubscriptionPatch): Promise<Subscription> {
    await this.get(id);
    try {
      return await this.client.workflow
        .getHandle(subscriptionWorkflowId(id))
        .executeUpdate(applySubscriptionUpdate, { args: [patch] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new InvalidPayloadError((err.cause as Error | undefined)?.message ?? err.message);
      throw err;
    }
  }

  /** Null when it does not exist or was deleted. */
  private async read(id: string): Promise<Subscription | null> {
    const state = await this.bounded(`subscription "${id}"`, this.timeouts.readTimeoutMs, () =>
      readSubscription(this.client, id, { query: false }),
    );
    if (state !== 'unread') return state;
    // A run from before the memo existed (it writes one with its next update): only a query can read it,
    // bounded so that a busy or absent worker answers 503 rather than holding the request.
    const handle = this.client.workflow.getHandle(subscriptionWorkflowId(id));
    return this.bounded(`subscription "${id}" (from its workflow)`, this.timeouts.legacyQueryTimeoutMs, () =>
      handle.query(getSubscriptionQuery),
    );
  }

  /** Temporal not answering in time, or unreachable, is a 503 with Retry-After, never a 500 after 30 s. */
  private async bounded<T>(what: string, timeoutMs: number, read: () => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    // The abort signal cancels the gRPC call; the timer also bounds the connection attempt itself.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ReadTimeout()), timeoutMs + 250);
    });
    try {
      const call = this.client.withAbortSignal(signal, read);
      call.catch(() => undefined); // a late rejection after the deadline is not unhandled
      return await Promise.race([call, deadline]);
    } catch (err) {
      if (err instanceof HookflowError) throw err;
      if (err instanceof ReadTimeout || err instanceof ServiceError || signal.aborted)
        throw new UnavailableError(`the workflow engine did not answer for ${what} in time; retry later`, 5, err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

class ReadTimeout extends Error {}

/** Describes in flight at once for a list: thousands of subscriptions must not be thousands of calls at once. */
const LIST_CONCURRENCY = 32;

async function inBatches<T, R>(items: T[], size: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(map))));
  return results;
}
