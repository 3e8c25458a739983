import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces moved into an encoded payload (`encodedAttributes`), so that the
 * payload codec encrypts them like any other payload: a failure's message can carry a URL and its query
 * (a follow-up GET's 404) or a subscriber's answer. Temporal keeps only "Encoded failure" in plain text.
 * Loaded by path (`failureConverterPath`) because the workflow bundle needs it too; both the workers and
 * the clients use it whenever payloads are encrypted (src/temporal/data-converter.ts).
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
