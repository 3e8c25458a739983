import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Keyring } from './keyring';

/** Metadata of an encrypted payload; the key id lets any listed key decrypt it after rotation. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const AAD = 'hookflow/payload';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM payload codec (the pattern of Temporal's encryption sample): the whole payload, metadata
 * included, is serialised and encrypted with the newest key. History, the database and the Web UI
 * without the codec endpoint see only ciphertext.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const { keyId, data } = this.keyring.encrypt(
        Buffer.from(temporal.api.common.v1.Payload.encode(payload).finish()),
        AAD,
      );
      return { metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID]: encoder.encode(keyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyId = payload.metadata?.[KEY_ID];
      if (!keyId || !payload.data) throw new Error('encrypted payload without key id or data');
      const plain = this.keyring.decrypt(decoder.decode(keyId), Buffer.from(payload.data), AAD);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
