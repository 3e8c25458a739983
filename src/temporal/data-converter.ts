import type { Client } from '@temporalio/client';
import type { DataConverter, ProtoFailure } from '@temporalio/common';
import type { HookflowConfig } from '../config/schema';
import { optionalKeyring } from '../security/from-config';
import { EncryptionCodec } from '../security/payload-codec';

/** The failure converter module: workers, clients and the workflow bundle all load it by this path. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The same data converter on every client and worker: payloads encrypted when keys are configured, and
 * then failure messages and stack traces too (moved into an encoded payload the codec encrypts).
 * Without keys nothing is encrypted and failures stay as Temporal stores them by default.
 */
export function dataConverterFor(config: HookflowConfig): DataConverter | undefined {
  const keyring = optionalKeyring(config);
  if (!keyring || config.security?.encryptPayloads === false) return undefined;
  return { payloadCodecs: [new EncryptionCodec(keyring)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/**
 * The message of a failure as read raw from Temporal (e.g. a pending activity's `lastFailure` in
 * describe, which the client does not decode): the encoded attributes decrypted with the client's codecs.
 */
export async function failureMessage(client: Client, failure: ProtoFailure | null | undefined): Promise<string | null> {
  if (!failure) return null;
  const encoded = failure.encodedAttributes;
  if (!encoded) return failure.message ?? null;
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let payloads = [encoded];
  for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  const attributes = payloadConverter.fromPayload<{ message?: unknown }>(payloads[0]!);
  return typeof attributes?.message === 'string' ? attributes.message : (failure.message ?? null);
}
