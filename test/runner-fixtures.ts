/**
 * Temp projects for the runner's tests: real files in a fresh folder under os.tmpdir(), with
 * `node_modules/c4c-runner` linked to this checkout the way `npm link` would (handlers import it).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Project {
  dir: string;
  write(file: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function makeProject(files: Record<string, string> = {}, options: { link?: boolean } = {}): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'c4c-runner-test-'));
  const write = async (file: string, text: string) => {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    return path;
  };
  if (options.link !== false) {
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await symlink(ROOT, join(dir, 'node_modules', 'c4c-runner'), 'dir');
  }
  for (const [file, text] of Object.entries(files)) await write(file, text);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A pino logger that keeps every line as an object, to assert on what was logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const logger = pino(
    { level, base: null },
    {
      write(chunk: string) {
        raw += chunk;
        for (const line of chunk.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, text: () => raw };
}
