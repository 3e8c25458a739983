import {
  ApplicationFailure,
  DefaultFailureConverter,
  TimeoutFailure,
  type PayloadConverter,
  type ProtoFailure,
  type SerializationContext,
} from '@temporalio/common';

/**
 * Failure types whose messages hookflow builds from status and error codes only (`Http503: receiver
 * answered HTTP 503 Service Unavailable`, `ConnectionError: connection failed (connection refused)`),
 * never from a receiver's body, a URL or a secret; `DeliveryFailed` wraps them.
 */
const READABLE_TYPE = /^(Http\d{3}|ConnectionError|DeliveryFailed)$/;

/** A failure whose message (and whole cause chain) is one of the readable kinds. */
function isReadable(err: unknown): boolean {
  if (err instanceof TimeoutFailure) return true; // "activity ScheduleToClose timeout": the SDK's words
  if (!(err instanceof ApplicationFailure) || !READABLE_TYPE.test(err.type ?? '')) return false;
  return err.cause === undefined || isReadable(err.cause);
}

/**
 * Failure messages and stack traces moved into an encoded payload (`encodedAttributes`), so that the
 * payload codec encrypts them like any other payload: a failure's message can carry a URL and its query
 * (a follow-up GET's 404). Temporal keeps only "Encoded failure" in plain text for those.
 *
 * Except a delivery attempt's typed failures (`Http503`, `ConnectionError`, and `DeliveryFailed` built on
 * them): their one-line messages hold no body, URL or secret (the receiver's answer is in the encrypted
 * attempt log), so they stay readable in the Web UI and the CLI, and go without a stack trace of server
 * paths. Loaded by path (`failureConverterPath`) because the workflow bundle needs it too; both the workers
 * and the clients use it whenever payloads are encrypted (src/temporal/data-converter.ts).
 */
class HookflowFailureConverter extends DefaultFailureConverter {
  constructor() {
    super({ encodeCommonAttributes: true });
  }

  override errorToFailure(err: unknown, payloadConverter: PayloadConverter, context?: SerializationContext) {
    if (!isReadable(err)) return super.errorToFailure(err, payloadConverter, context);
    // A copy: for a failure received from Temporal the inner conversion returns its original object.
    const failure: ProtoFailure = this.errorToFailureInner(err, payloadConverter, context);
    return { ...failure, stackTrace: '', encodedAttributes: undefined };
  }
}

export const failureConverter = new HookflowFailureConverter();
