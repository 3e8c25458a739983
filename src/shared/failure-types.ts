/**
 * The `type` of every ApplicationFailure hookflow raises: activities and workflows throw these, workflows,
 * the API and tests compare against them, metrics label attempts with them (`failure_type`). One list, so
 * a thrower and a reader cannot drift apart.
 */
export const FailureType = {
  /** The source has no follow-up API configured for this event. */
  FollowUpNotConfigured: 'FollowUpNotConfigured',
  /** The follow-up URL is outside the source's allowed hosts/paths. */
  FollowUpUrlRefused: 'FollowUpUrlRefused',
  /** The source's API answered 404/410: the object is gone (permanent). */
  FollowUpNotFound: 'FollowUpNotFound',
  /** The source's API failed retryably (5xx, 408, 429, network). */
  FollowUpUnavailable: 'FollowUpUnavailable',
  /** The source's API refused the request (other 4xx, bad body): permanent. */
  FollowUpRejected: 'FollowUpRejected',
  /** The follow-up body is larger than a workflow payload may be. */
  FollowUpTooLarge: 'FollowUpTooLarge',
  /** A delivery attempt got no HTTP answer (timeout, refused connection): retried. */
  ConnectionError: 'ConnectionError',
  /** The receiver's address is refused by the SSRF guard (network.allow). */
  SsrfRefused: 'SsrfRefused',
  /** Sealed secrets cannot be opened: no security.encryptionKeys. */
  NoEncryptionKeys: 'NoEncryptionKeys',
  /** The delivery workflow's final failure, once its retry policy is exhausted. */
  DeliveryFailed: 'DeliveryFailed',
  /** A replay request the replay workflow or its activities cannot run. */
  InvalidReplay: 'InvalidReplay',
  /** Bulk retry filters the bulk retry workflow cannot turn into a query (started without the API). */
  InvalidBulkRetry: 'InvalidBulkRetry',
  /** A subscription change that would not fit the stored limits. */
  InvalidSubscription: 'InvalidSubscription',
  /** The subscription's transformation failed on the event (or exceeded a bound): not retried. */
  TransformFailed: 'TransformFailed',
  /** The subscription a replay names does not exist (any more). */
  SubscriptionNotFound: 'SubscriptionNotFound',
  /** The subscription is held or throttled and the attempt has no permit: nothing was sent, the delivery asks its gate. */
  AwaitingGate: 'AwaitingGate',
  /** A local first attempt that could not read the subscription without a query: nothing sent, a regular attempt goes instead. */
  LocalAttemptDeferred: 'LocalAttemptDeferred',
} as const;

/** A receiver's non-2xx answer: `Http503`, `Http410` (410 also disables the subscription). */
export type HttpFailureType = `Http${number}`;

export function httpFailureType(status: number): HttpFailureType {
  return `Http${status}`;
}
