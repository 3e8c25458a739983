import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import { Agent, type Dispatcher } from 'undici';
import type { Keyring } from '../security/keyring';
import { unseal } from '../security/sealed';
import { createSsrfGuard, type SsrfGuard } from '../security/ssrf';
import type { Subscription } from '../shared/subscription';
import { guardedConnector } from './http';

/**
 * One keep-alive pool per distinct TLS setting (verification, CA, client certificate): subscriptions
 * with default TLS share the worker's pool; the others get their own, reused across deliveries, with
 * the same SSRF guard (`allow` is config.network.allow) as the shared pool.
 */
export class TlsAgents {
  private readonly agents = new Map<string, Dispatcher>();
  private readonly guard: SsrfGuard;

  constructor(
    private readonly shared: Dispatcher,
    private readonly keyring: Keyring | undefined,
    allow: readonly string[],
  ) {
    this.guard = createSsrfGuard(allow);
  }

  for(subscription: Subscription): Dispatcher {
    const { tls } = subscription;
    if (tls.verify && !tls.ca && !tls.clientCert) return this.shared;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([tls.verify, tls.ca, tls.clientCert, tls.clientKey]))
      .digest('hex');
    let agent = this.agents.get(fingerprint);
    if (!agent) {
      if (!tls.verify)
        log.warn('TLS certificate verification is OFF for this subscription (explicit opt-in)', {
          subscriptionId: subscription.id,
        });
      if (tls.clientKey && !this.keyring) throw new Error('security.encryptionKeys is required to open the client key');
      agent = new Agent({
        keepAliveTimeout: 30_000,
        connect: guardedConnector(this.guard, {
          rejectUnauthorized: tls.verify,
          ca: tls.ca,
          cert: tls.clientCert,
          key: tls.clientKey ? unseal(this.keyring!, tls.clientKey) : undefined,
        }),
      });
      this.agents.set(fingerprint, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }
}
