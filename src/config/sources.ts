/**
 * Where a setting came from, said the way a user finds it again: "env C4C_API_ENDPOINT",
 * "platform.url in c4c.config.ts", "api_endpoint in ~/.c4c/config.json".
 */
import { basename } from 'node:path';
import type { SettingSource } from './schema.js';

const NAMES = {
  url: { env: 'env C4C_API_ENDPOINT', config: 'platform.url', home: 'api_endpoint' },
  token: { env: 'env C4C_API_TOKEN', config: 'platform.token', home: 'api_token' },
} as const;

/** The source of the platform URL or token, as a phrase (`configFile` names the file when known). */
export function describeSettingSource(
  setting: 'url' | 'token',
  source: SettingSource,
  configFile?: string,
): string {
  const names = NAMES[setting];
  switch (source) {
    case 'env':
      return names.env;
    case 'config':
      return `${names.config} in ${configFile ? basename(configFile) : 'the config'}`;
    case 'home':
      return `${names.home} in ~/.c4c/config.json`;
    case 'flag':
      return 'the command line';
    case 'default':
      return 'the default';
    case 'none':
      return 'nowhere';
  }
}
