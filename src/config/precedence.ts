/**
 * @module
 * The one precedence rule for every setting that can come from several places:
 * flag > env > config file > ~/.c4c/config.json > default. The environment wins over the committed file
 * because it belongs to the deployment (12-factor): a file in git is the project's default, the
 * environment is where this copy runs. Used for the token, the URL and the webhook.
 */
import type { SettingSource } from './schema.js';

/** Where one setting may come from; `undefined` or `''` means "not set there". */
export interface SettingSources<T> {
  flag?: T | undefined;
  env?: T | undefined;
  config?: T | undefined;
  home?: T | undefined;
  default?: T | undefined;
}

const ORDER = ['flag', 'env', 'config', 'home', 'default'] as const;

/** The value that wins, with where it came from; `undefined` when no place sets it. */
export function resolveSetting<T>(sources: SettingSources<T>): [T, SettingSource] | undefined {
  for (const source of ORDER) {
    const value = sources[source];
    if (value !== undefined && value !== '') return [value, source];
  }
  return undefined;
}
