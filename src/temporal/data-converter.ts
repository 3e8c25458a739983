import type { DataConverter } from '@temporalio/common';
import type { HookflowConfig } from '../config/schema';
import { optionalKeyring } from '../security/from-config';
import { EncryptionCodec } from '../security/payload-codec';

/** The same data converter on every client and worker: payloads encrypted when keys are configured. */
export function dataConverterFor(config: HookflowConfig): DataConverter | undefined {
  const keyring = optionalKeyring(config);
  if (!keyring || config.security?.encryptPayloads === false) return undefined;
  return { payloadCodecs: [new EncryptionCodec(keyring)] };
}
