/**
 * The scale-out deployment examples (docs/deploy/docker-compose.redis.yml and c4c-agent@.service),
 * checked at lint level: Docker cannot run here. The YAML is parsed, the unit read key by key; every
 * flag they pass must be one `c4c-runner start --help` lists, every C4C_ variable one the code reads,
 * and docs/scaling.md must show each file as it is.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { ROOT, spawnCli } from '../helpers/cli.js';

const DRAIN_MS = configSchema.parse({}).drainTimeout;
// js-yaml comes with cosmiconfig (a dependency of the runner); it has no types of its own.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

let startHelp = '';
let sourceText = '';

beforeAll(async () => {
  const help = spawnCli(['start', '--help']);
  await help.exited;
  startHelp = help.stdout();
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
      else if (entry.name.endsWith('.ts')) files.push(join(dir, entry.name));
    }
  };
  await walk(join(ROOT, 'src'));
  sourceText = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
});

/** The flags (`--x`) in a command line, and the C4C_ variables named in a text. */
const flagsOf = (args: string[]) => args.filter((a) => a.startsWith('--'));
const envNamesOf = (text: string) => [...new Set(text.match(/\bC4C_[A-Z_]+\b/g) ?? [])];

function expectKnown(flags: string[], envNames: string[]): void {
  for (const flag of flags) expect(startHelp, `start --help lists ${flag}`).toContain(`${flag} `);
  for (const name of envNames) expect(sourceText, `the code reads ${name}`).toContain(`${name}`);
}

describe('docs/deploy/docker-compose.redis.yml', () => {
  it('runs several identical start --redis processes beside a Redis they wait for, stopping with the drain time', async () => {
    const text = await readFile(join(ROOT, 'docs', 'deploy', 'docker-compose.redis.yml'), 'utf8');
    const compose = yaml.load(text) as {
      services: Record<
        string,
        {
          image?: string;
          command?: string[];
          environment?: Record<string, string>;
          deploy?: { replicas?: number };
          depends_on?: Record<string, { condition: string }>;
          stop_signal?: string;
          stop_grace_period?: string;
          healthcheck?: unknown;
        }
      >;
    };
    const { redis, agent } = compose.services;
    expect(redis?.image).toMatch(/^redis:7/);
    expect(redis?.healthcheck).toBeDefined();
    expect(agent?.command?.slice(0, 3)).toEqual([
      'node',
      'node_modules/c4c-runner/bin/c4c-runner.js',
      'start',
    ]);
    const command = agent!.command!;
    expect(command[command.indexOf('--redis') + 1]).toBe('redis://redis:6379');
    expect(agent?.deploy?.replicas).toBeGreaterThan(1);
    expect(agent?.depends_on?.redis?.condition).toBe('service_healthy');
    expect(agent?.stop_signal).toBe('SIGTERM');
    expect(Number(/^(\d+)s$/.exec(agent!.stop_grace_period!)?.[1]) * 1000).toBeGreaterThan(DRAIN_MS + 5_000);
    expectKnown(flagsOf(command), [
      ...envNamesOf(text),
      ...Object.keys(agent?.environment ?? {}).filter((name) => name.startsWith('C4C_')),
    ]);
    expect(await readFile(join(ROOT, 'docs', 'scaling.md'), 'utf8')).toContain(text.trim());
  });
});

describe('docs/deploy/c4c-agent@.service', () => {
  it('is a template unit for N processes: start with the Redis URL from the environment file, SIGTERM, drain time', async () => {
    const text = await readFile(join(ROOT, 'docs', 'deploy', 'c4c-agent@.service'), 'utf8');
    const keys = new Map<string, string>();
    for (const line of text.split('\n')) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
      if (match) keys.set(match[1]!, match[2]!);
    }
    expect(keys.get('ExecStart')).toMatch(/c4c-runner\.js start$/);
    expect(keys.get('KillSignal')).toBe('SIGTERM');
    expect(keys.get('Restart')).toBe('always');
    expect(Number(keys.get('TimeoutStopSec')) * 1000).toBeGreaterThan(DRAIN_MS + 5_000);
    expect(keys.get('Description')).toContain('%i');
    // The URL comes from the environment file: C4C_REDIS_URL, which start reads.
    expect(text).toContain('C4C_REDIS_URL=');
    expectKnown(flagsOf(keys.get('ExecStart')!.split(' ')), envNamesOf(text));
    expect(await readFile(join(ROOT, 'docs', 'scaling.md'), 'utf8')).toContain(text.trim());
  });
});
