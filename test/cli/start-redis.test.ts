/**
 * `c4c-runner start --redis`: where the URL comes from (flag > env C4C_REDIS_URL > redis.url in the
 * config) and what a bad or unreachable one says. Needs no Redis: each case stops before one is needed
 * (the serving itself is tested against a real redis-server in test/services/redis-scale.test.ts).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { makeProject, type Project } from '../helpers/runner.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function run(config: object, env: NodeJS.ProcessEnv, args: string[] = []) {
  const p: Project = await makeProject({
    'c4c.config.json': JSON.stringify(config),
    'handlers/message.ts': `export default (ctx) => ctx.event.content;\n`,
  });
  cleanups.push(() => p.remove());
  const cli = spawnCli(['start', ...args], {
    cwd: p.dir,
    env: {
      HOME: join(p.dir, 'home'),
      // Nothing listens there: every case must stop at Redis, before the platform matters.
      C4C_API_ENDPOINT: 'http://127.0.0.1:1',
      C4C_API_TOKEN: 'cl_start_redis_token',
      C4C_REDIS_URL: '',
      ...env,
    },
  });
  cleanups.push(() => cli.stop('SIGKILL'));
  const code = await cli.exited;
  return { code, output: cli.output() };
}

describe('start --redis', () => {
  it('a URL that is no Redis URL: says which setting and what a good one looks like', async () => {
    const flag = await run({}, {}, ['--redis', 'localhost:6379']);
    expect(flag.code).toBe(1);
    expect(flag.output).toMatch(/--redis must be a Redis URL such as redis:\/\/localhost:6379/);
    const env = await run({}, { C4C_REDIS_URL: 'http://localhost:6379' });
    expect(env.output).toMatch(/env C4C_REDIS_URL must be a Redis URL/);
  });

  it('reads redis.url from the config; unreachable, it exits with the reason and the password redacted', async () => {
    const { code, output } = await run({ redis: { url: 'redis://:s3cretpass@127.0.0.1:1/2' } }, {});
    expect(code).toBe(1);
    expect(output).toMatch(
      /cannot reach Redis at redis:\/\/:?\[redacted\]@127\.0\.0\.1:1\/2: .*ECONNREFUSED.*start Redis/,
    );
    expect(output).not.toContain('s3cretpass');
  });

  it('the flag wins over the environment, which wins over the config', async () => {
    const flagWins = await run({ redis: { url: 'nope' } }, { C4C_REDIS_URL: 'http://bad' }, [
      '--redis',
      'redis://127.0.0.1:1',
    ]);
    expect(flagWins.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    const envWins = await run({ redis: { url: 'nope' } }, { C4C_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(envWins.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('a bad redis key in the config is a config error naming the key', async () => {
    const { code, output } = await run({ redis: { partitions: 0 } }, {});
    expect(code).toBe(1);
    expect(output).toMatch(/redis\.partitions.*positive integer/);
  });
});
