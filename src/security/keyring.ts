import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with a list of keys: encrypt with the first (newest), decrypt with whichever key id the
 * ciphertext names. Rotation = put a new key first and keep the old ones until nothing uses them.
 * Used for sealed secrets in subscriptions and by the Temporal payload codec.
 */
export interface KeyringKey {
  id: string;
  key: Buffer;
}

export class KeyringError extends Error {}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class Keyring {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: KeyringKey[]) {
    if (keys.length === 0) throw new KeyringError('at least one encryption key is required');
    for (const { id, key } of keys) {
      if (key.length !== 32)
        throw new KeyringError(`encryption key "${id}" must be 32 bytes (base64 of 32 random bytes)`);
    }
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** `aad` binds the ciphertext to its purpose so it cannot be replayed elsewhere. */
  encrypt(plaintext: Buffer, aad: string): { keyId: string; data: Buffer } {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId: id, data: Buffer.concat([iv, body, cipher.getAuthTag()]) };
  }

  decrypt(keyId: string, data: Buffer, aad: string): Buffer {
    const key = this.byId.get(keyId);
    if (!key) throw new KeyringError(`no encryption key with id "${keyId}" is configured`);
    if (data.length < IV_BYTES + TAG_BYTES) throw new KeyringError('ciphertext is too short');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new KeyringError(`ciphertext does not authenticate with key "${keyId}"`);
    }
  }
}

export function keyringFromConfig(keys: Array<{ id: string; key: string }>): Keyring {
  return new Keyring(keys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })));
}
