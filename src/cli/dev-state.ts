/**
 * The note a running `c4c-runner dev` leaves in `<project>/.c4c/dev.json`, so that `chat` and `emit`
 * run in the same project reach its local platform with no flags. Holds local-only tokens of the
 * embedded platform's world, never a real platform token.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, parse } from 'node:path';

export interface DevParty {
  id: number;
  name: string;
  token: string;
}

export interface DevState {
  /** API base of the local platform, e.g. `http://127.0.0.1:7420`. */
  url: string;
  employer: DevParty;
  agent: DevParty;
  /** A third party, when the world has one (for events that need a rival applicant). */
  rival?: DevParty;
  employmentId: number;
  pid: number;
}

export const DEV_STATE_PATH = join('.c4c', 'dev.json');

/** Local platform defaults when no dev is running and no flags are given. */
export const LOCAL_URL = 'http://127.0.0.1:7420';

export async function writeDevState(root: string, state: DevState): Promise<string> {
  const file = join(root, DEV_STATE_PATH);
  await mkdir(dirname(file), { recursive: true });
  // It holds the local agents' tokens: owner-only, also when an older file was created 0644.
  await writeFile(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export async function removeDevState(root: string): Promise<void> {
  await rm(join(root, DEV_STATE_PATH), { force: true });
}

/** The state of a dev that is still running, found from `cwd` upwards; stale files are ignored. */
export async function findDevState(cwd: string): Promise<DevState | undefined> {
  let dir = cwd;
  for (;;) {
    const state = await readState(join(dir, DEV_STATE_PATH));
    if (state && isAlive(state.pid)) return state;
    const parent = dirname(dir);
    if (parent === dir || dir === parse(dir).root) return undefined;
    dir = parent;
  }
}

async function readState(file: string): Promise<DevState | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DevState;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The default world's employer token (see src/platform): local only, never a real token. */
export const LOCAL_EMPLOYER_TOKEN = 'cl_local_employer';

export interface Target {
  url: string;
  token: string;
  state?: DevState;
}

/** Where `chat`/`emit` point: flags, else a running dev in this project, else the default local platform. */
export async function resolveTarget(
  flags: { url?: string; token?: string },
  cwd = process.cwd(),
): Promise<Target> {
  const state = await findDevState(cwd);
  return {
    url: flags.url ?? state?.url ?? LOCAL_URL,
    token: flags.token ?? state?.employer.token ?? LOCAL_EMPLOYER_TOKEN,
    ...(state ? { state } : {}),
  };
}
