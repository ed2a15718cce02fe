/**
 * `createScaledRunner` in-process (what `start --redis` runs), against a real redis-server and the
 * embedded platform: two runners share the work, and the Prometheus exporter shows each one's part.
 */
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createPrometheusRegistry } from '../../src/ops/prometheus.js';
import { startPlatform, type Platform } from '../../src/platform/index.js';
import { createScaledRunner, type ScaledRunner } from '../../src/scale/runner.js';
import { REDIS_DEFAULTS } from '../../src/config/schema.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { makeProject, type Project } from '../helpers/runner.js';
import { waitFor } from '../helpers/wait.js';

let redis: RedisServer | undefined;
let platform: Platform | undefined;
let project: Project | undefined;
const runners: ScaledRunner[] = [];
afterEach(async () => {
  for (const r of runners.splice(0)) await r.close({ drainTimeout: 500 });
  await platform?.close();
  await project?.remove();
  await redis?.stop();
});

it('two scaled runners: one holds the socket, both consume partitions and answer; the exporter shows who does what', async () => {
  redis = await startRedis();
  platform = await startPlatform();
  project = await makeProject({
    'c4c.config.json': JSON.stringify({ redis: { partitions: 4, lease: 1_000 } }),
    'handlers/message.ts': `export default (ctx) => 'echo: ' + ctx.event.content;\n`,
  });
  const config = await loadConfig({
    cwd: project.dir,
    env: { C4C_API_ENDPOINT: platform.url, C4C_API_TOKEN: platform.world.agent.token },
    home: `${project.dir}/home`,
  });
  const settings = { ...REDIS_DEFAULTS, ...config.redis, url: redis.url };
  for (let i = 0; i < 2; i++) {
    const runner = createScaledRunner(config, settings);
    runners.push(runner);
    await runner.start();
  }
  const [a, b] = runners as [ScaledRunner, ScaledRunner];
  expect([a.scale.holder, b.scale.holder]).toEqual([true, false]);
  await waitFor(() => a.scale.partitions.length === 2 && b.scale.partitions.length === 2, {
    message: 'the partitions split 2 / 2',
  });
  expect([...a.scale.partitions, ...b.scale.partitions].sort()).toEqual([0, 1, 2, 3]);

  const employment = platform.world.employmentId;
  platform.sendMessage({ employmentId: employment, content: 'hi' });
  await waitFor(() => a.stats.replies + b.stats.replies === 1, { message: 'the reply' });

  const text = await createPrometheusRegistry(a, { defaultMetrics: false }).metrics();
  expect(text).toMatch(/^c4c_scale_holder 1$/m);
  expect(text).toMatch(/^c4c_scale_partitions 2$/m);
  expect(text).toMatch(/^c4c_scale_written_total 1$/m);
  expect(await createPrometheusRegistry(b, { defaultMetrics: false }).metrics()).toMatch(
    /^c4c_scale_holder 0$/m,
  );
  // A process that does not hold the socket is as ready as its Redis connection.
  expect(b.stats.connection).toBe('open');
});
