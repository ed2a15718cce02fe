/**
 * `.env` in the project folder, loaded by `dev` and `start` before the config is read: the same
 * KEY=value file other Node tools read (Node's own parser, `process.loadEnvFile`). A variable
 * already in the environment wins over the file's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { C4cError } from '../errors.js';

/** Loads `<dir>/.env` into `process.env` when it exists; returns its path, or `undefined`. */
export function loadDotEnv(dir: string): string | undefined {
  const file = join(dir, '.env');
  if (!existsSync(file)) return undefined;
  // The environment wins. Node's loader already keeps what is set; putting it back as well keeps that
  // promise on any release whose loader would not.
  const before = { ...process.env };
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw new C4cError(
      'E_CONFIG',
      `${file} could not be read: ${(error as Error).message}; fix or remove it`,
      {
        cause: error,
      },
    );
  }
  for (const [key, value] of Object.entries(before)) process.env[key] = value;
  return file;
}
