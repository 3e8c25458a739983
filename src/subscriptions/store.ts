import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { listSubscriptionIds, readSubscription, subscriptionsQuery } from './lookup';
import { ConflictError, InvalidPayloadError, NotFoundError } from '../errors';
import type { Keyring } from '../security/keyring';
import {
  applySubscriptionUpdate,
  deleteSubscriptionUpdate,
  subscriptionWorkflowId,
  testSignal,
  type Subscription,
  type SubscriptionPatch,
  type SubscriptionWorkflow,
} from '../shared/subscription';
import { subscriptionSearchAttributes } from '../shared/subscription-limits';
import type { CreateSubscriptionInput, UpdateSubscriptionInput } from './schema';
import { toPatch } from './seal';

/**
 * Subscriptions live in Temporal, one `subscription/<id>` workflow each: no other database. This is the
 * API's (and the worker's, for subscriptions declared in the config file) way to change and read them.
 */
export class SubscriptionStore {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly keyring: Keyring,
  ) {}

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
    const subscription = await readSubscription(this.client, id);
    if (!subscription || !(await this.isRunning(id))) throw new NotFoundError(`subscription "${id}" does not exist`);
    return subscription;
  }

  /** Listed through visibility (may trail a create by well under a second), read from each workflow. */
  async list(): Promise<Subscription[]> {
    const ids = await listSubscriptionIds(this.client, subscriptionsQuery(this.taskQueue));
    const all = await Promise.all(ids.map((id) => readSubscription(this.client, id)));
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

  private async isRunning(id: string): Promise<boolean> {
    try {
      const description = await this.client.workflow.getHandle(subscriptionWorkflowId(id)).describe();
      return description.status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }
}
