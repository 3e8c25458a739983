import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import { dataConverterFor } from './data-converter';

/**
 * The API's Temporal client. The connection is lazy so the API starts (and answers 503) while Temporal is
 * down. The SDK's gRPC retry goes on after a call is abandoned, so the API keeps it short: a webhook
 * that Temporal cannot take within `ackTimeout` is answered 503 and retried by its source anyway.
 */
export function createApiClient(config: HookflowConfig): { client: Client; connection: Connection } {
  const connection = Connection.lazy({
    address: config.temporal.address,
    connectTimeout: config.server.ackTimeout,
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 4 }))],
  });
  return {
    connection,
    client: new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverterFor(config) }),
  };
}
