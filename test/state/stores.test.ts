/**
 * The state stores on their own: memory, and files in a real temp folder (write-behind batches,
 * atomic renames, nothing on disk until used, a failed write kept for the next flush).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isC4cError } from '../../src/errors.js';
import { FileStateStore } from '../../src/state/file.js';
import { MemoryStateStore } from '../../src/state/memory.js';
import { isStateStore, type StateStore } from '../../src/state/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c4c-state-'));
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  ['memory', () => new MemoryStateStore()],
  ['file', () => new FileStateStore({ dir: join(dir, 'state') })],
] as const)('the %s store', (_, make: () => StateStore) => {
  it('gets what was set, per key, and nothing once deleted', async () => {
    const store = make();
    expect(isStateStore(store)).toBe(true);
    expect(await store.get('employment:1')).toBeUndefined();
    await store.set('employment:1', '{"n":1}');
    await store.set('employment:2', '[2]');
    expect(await store.get('employment:1')).toBe('{"n":1}');
    expect(await store.get('employment:2')).toBe('[2]');
    await store.delete('employment:1');
    await store.delete('employment:missing');
    expect(await store.get('employment:1')).toBeUndefined();
    await store.close?.();
  });
});

describe('FileStateStore', () => {
  it('touches the disk only once a key is written, then writes one file per key', async () => {
    const folder = join(dir, 'state');
    const store = new FileStateStore({ dir: folder });
    expect(await store.get('employment:1')).toBeUndefined();
    await store.flush();
    await expect(readdir(folder)).rejects.toMatchObject({ code: 'ENOENT' });

    await store.set('employment:1', '{"a":1}');
    await store.flush();
    expect(await readdir(folder)).toEqual(['employment%3A1.json']);
    expect(await readFile(join(folder, 'employment%3A1.json'), 'utf8')).toBe('{"a":1}');
    // A second store on the same folder (the next start) reads it back.
    expect(await new FileStateStore({ dir: folder }).get('employment:1')).toBe('{"a":1}');
  });

  it('writes behind: changes of one delay land together, the last value of a key wins, no temp file is left', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const folder = join(dir, 'state');
    const store = new FileStateStore({ dir: folder, delay: 100 });
    await store.set('employment:1', '1');
    await store.set('employment:1', '2');
    await store.set('employment:2', '3');
    // Not written yet, but read back from what is pending.
    expect(await store.get('employment:1')).toBe('2');
    await expect(readdir(folder)).rejects.toMatchObject({ code: 'ENOENT' });
    await vi.advanceTimersByTimeAsync(100);
    await store.flush(); // waits for the batch the timer started
    expect((await readdir(folder)).sort()).toEqual(['employment%3A1.json', 'employment%3A2.json']);
    expect(await readFile(join(folder, 'employment%3A1.json'), 'utf8')).toBe('2');
    await store.delete('employment:2');
    await vi.advanceTimersByTimeAsync(100);
    await store.flush();
    expect(await readdir(folder)).toEqual(['employment%3A1.json']);
  });

  it('keeps a change that could not be written and writes it once the folder is usable', async () => {
    const blocker = join(dir, 'state');
    await writeFile(blocker, 'a file where the folder should be');
    const store = new FileStateStore({ dir: join(blocker, 'inner') });
    await store.set('employment:1', '"kept"');
    const error: unknown = await store.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/ENOTDIR|EEXIST|not a directory/i);
    expect(await store.get('employment:1')).toBe('"kept"');
    await rm(blocker);
    await store.flush();
    expect(await readFile(join(blocker, 'inner', 'employment%3A1.json'), 'utf8')).toBe('"kept"');
  });

  it('close flushes, is safe twice, and refuses later changes with a clear error', async () => {
    const store = new FileStateStore({ dir: join(dir, 'state'), delay: 60_000 });
    await store.set('employment:7', '7');
    await store.close();
    await store.close();
    expect(await readFile(join(dir, 'state', 'employment%3A7.json'), 'utf8')).toBe('7');
    let refused: unknown;
    try {
      await store.set('employment:7', '8');
    } catch (error) {
      refused = error;
    }
    expect(isC4cError(refused, 'E_CLOSED')).toBe(true);
  });

  it('rejects a bad delay when it is made', () => {
    expect(() => new FileStateStore({ dir, delay: -1 })).toThrow(/delay must be a whole number of ms >= 0/);
  });
});
