import type { HookflowConfig } from '../config/schema';
import { ConfigError } from '../config/load';
import { keyringFromConfig, type Keyring } from './keyring';

export function optionalKeyring(config: HookflowConfig): Keyring | undefined {
  return config.security ? keyringFromConfig(config.security.encryptionKeys) : undefined;
}

/** Subscriptions hold secrets, which are stored sealed: they need the keys. */
export function requireKeyring(config: HookflowConfig, forWhat: string): Keyring {
  const keyring = optionalKeyring(config);
  if (!keyring) throw new ConfigError(`security.encryptionKeys is required for ${forWhat}`);
  return keyring;
}
