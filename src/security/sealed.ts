import type { Keyring } from './keyring';

/**
 * A secret as hookflow stores it in Temporal (subscription state, workflow inputs): `sealed:v1:<keyId>:<base64>`.
 * Only processes holding the keyring can open it; history, queries and the Web UI only ever see this form.
 */
const PREFIX = 'sealed:v1:';
const AAD = 'hookflow/secret';

export type Sealed = `sealed:v1:${string}`;

export function isSealed(value: string): value is Sealed {
  return value.startsWith(PREFIX);
}

export function seal(keyring: Keyring, secret: string): Sealed {
  const { keyId, data } = keyring.encrypt(Buffer.from(secret, 'utf8'), AAD);
  return `${PREFIX}${keyId}:${data.toString('base64')}`;
}

export function unseal(keyring: Keyring, sealed: string): string {
  if (!isSealed(sealed)) throw new Error('value is not a sealed secret');
  const rest = sealed.slice(PREFIX.length);
  const colon = rest.lastIndexOf(':');
  return keyring.decrypt(rest.slice(0, colon), Buffer.from(rest.slice(colon + 1), 'base64'), AAD).toString('utf8');
}
