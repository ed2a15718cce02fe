/**
 * The deployment files, checked as far as this machine allows: Docker cannot run here, so the
 * templates' Dockerfiles are read instruction by instruction; the systemd unit goes through
 * `systemd-analyze verify` where that exists; the PM2 file is loaded. Every stop timeout must
 * leave the runner its drain.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { ROOT } from '../helpers/cli.js';

const DRAIN_MS = configSchema.parse({}).drainTimeout;
const TEMPLATES = ['default', 'llm'];

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions: comments dropped, `\` continuations joined. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

/** The `[Section] Key=Value` pairs of a systemd unit (a key given twice keeps both values). */
function unitKeys(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) keys.set(match[1]!, [...(keys.get(match[1]!) ?? []), match[2]!]);
  }
  return keys;
}

/** systemd time span → ms (`30`, `30s`, `1min 30s`). */
function timespan(value: string): number {
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+)\s*(ms|s|sec|min|m)?\b/g)) {
    const factor = unit === 'ms' ? 1 : unit === 'min' || unit === 'm' ? 60_000 : 1_000;
    ms += Number(n) * factor;
  }
  return ms;
}

describe.each(TEMPLATES)('templates/%s/Dockerfile', (template) => {
  it('builds in stages with npm ci --omit=dev, runs as a non-root user, stops with SIGTERM and checks /healthz', async () => {
    const text = await readFile(join(ROOT, 'templates', template, 'Dockerfile'), 'utf8');
    const all = instructions(text);
    const froms = all.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:\S+ AS \w+$/i);
    const runtime = all.slice(all.lastIndexOf(froms.at(-1)!));
    // Production dependencies from the lock file, in a build stage, copied into the runtime.
    expect(all.some((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.keyword === 'COPY' && /--from=\w+/.test(i.args))).toBe(true);
    // The last USER of the runtime stage is not root, and nothing runs after it as root.
    const users = runtime.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.find((i) => i.keyword === 'STOPSIGNAL')?.args).toBe('SIGTERM');
    const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    expect(healthcheck).toMatch(/CMD .*\/healthz/);
    const port = /ENV .*C4C_HEALTH_PORT=(\d+)/s.exec(
      runtime.map((i) => `${i.keyword} ${i.args}`).join('\n'),
    )?.[1];
    expect(port).toBeDefined();
    expect(healthcheck).toContain(`:${port}/healthz`);
    expect(runtime.find((i) => i.keyword === 'EXPOSE')?.args).toBe(port);
    // Exec form, node as PID 1: a shell or npm in between would not pass SIGTERM on.
    const cmd = runtime.filter((i) => i.keyword === 'CMD').at(-1)!.args;
    expect(JSON.parse(cmd)).toEqual(expect.arrayContaining(['node', 'start']));
    expect(JSON.parse(cmd)[0]).toBe('node');
  });

  it('has a .dockerignore that keeps modules, secrets and local state out of the image', async () => {
    const lines = (await readFile(join(ROOT, 'templates', template, '.dockerignore'), 'utf8')).split('\n');
    for (const entry of ['node_modules', '.env', '.env.*', '.c4c', '.git']) expect(lines).toContain(entry);
  });
});

describe('docs/deploy/c4c-agent.service', () => {
  it('stops with SIGTERM, waits longer than the drain, always restarts; the docs show it as it is', async () => {
    const text = await readFile(join(ROOT, 'docs', 'deploy', 'c4c-agent.service'), 'utf8');
    const keys = unitKeys(text);
    expect(keys.get('KillSignal')).toEqual(['SIGTERM']);
    expect(keys.get('Restart')).toEqual(['always']);
    expect(timespan(keys.get('TimeoutStopSec')![0]!)).toBeGreaterThan(DRAIN_MS + 5_000);
    expect(keys.get('ExecStart')![0]).toMatch(/c4c-runner\.js start$/);
    expect(await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8')).toContain(text.trim());
  });

  it('passes systemd-analyze verify (where systemd-analyze exists)', async () => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      console.warn(
        'notice: systemd-analyze is not installed here; `systemd-analyze verify` of the unit did not run',
      );
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'c4c-unit-'));
    try {
      // This machine's node, wherever it is: verify checks that ExecStart's program exists.
      const unit = (await readFile(join(ROOT, 'docs', 'deploy', 'c4c-agent.service'), 'utf8')).replace(
        '/usr/bin/node',
        process.execPath,
      );
      const file = join(dir, 'my-agent.service');
      await writeFile(file, unit);
      const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
      expect(verify.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/deploy/ecosystem.config.cjs (PM2)', () => {
  it('gives the drain time before SIGKILL and runs one process per agent; the docs show it as it is', async () => {
    const file = join(ROOT, 'docs', 'deploy', 'ecosystem.config.cjs');
    const { apps } = createRequire(import.meta.url)(file) as {
      apps: { script: string; args: string; kill_timeout: number; instances: number; autorestart: boolean }[];
    };
    expect(apps).toHaveLength(1);
    expect(apps[0]!.kill_timeout).toBeGreaterThan(DRAIN_MS + 5_000);
    expect(apps[0]!.instances).toBe(1);
    expect(apps[0]!.autorestart).toBe(true);
    expect(`${apps[0]!.script} ${apps[0]!.args}`).toMatch(/c4c-runner\.js start$/);
    expect(await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8')).toContain(
      (await readFile(file, 'utf8')).trim(),
    );
  });
});
