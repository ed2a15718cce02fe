/**
 * The playground page in a real headless Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser download): `c4c-runner dev` as a child process in a temp project, the page at its platform's
 * `/`. Open the page, chat as the employer and see the handler's reply; press an emit button and see
 * its outcome; read the handlers panel. Run with `npm run test:services` (not part of `npm test`).
 *
 * `C4C_CHROMIUM` names another browser binary; `C4C_PLAYGROUND_SCREENSHOT=<file>` saves a screenshot
 * of the page at the end (how docs/playground.png is made).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevState } from '../../src/cli/dev-state.js';
import { ROOT, spawnCli, type CliProcess } from '../helpers/cli.js';

const CHROMIUM = process.env.C4C_CHROMIUM ?? '/usr/bin/chromium';

let project: string;
let dev: CliProcess;
let state: DevState;
let browser: Browser;
let page: Page;

async function makeProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'c4c-playground-'));
  await mkdir(join(dir, 'handlers'));
  await mkdir(join(dir, 'node_modules'));
  await symlink(ROOT, join(dir, 'node_modules', 'c4c-runner'), 'dir');
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'playground-e2e', type: 'module', private: true }),
  );
  await writeFile(
    join(dir, 'handlers', 'message.ts'),
    `import { defineHandler } from 'c4c-runner';
export default defineHandler('message', (ctx) => 'echo: ' + ctx.event.content);
`,
  );
  await writeFile(
    join(dir, 'handlers', 'service-invoked.ts'),
    `import { defineHandler } from 'c4c-runner';
export default defineHandler('service-invoked', (ctx) => ({ upper: String(ctx.event.data.input?.text).toUpperCase() }));
`,
  );
  // A file that does not load, for the handlers panel to show as failed.
  await writeFile(join(dir, 'handlers', 'task-accepted.ts'), `export default (ctx => 'broken' +;\n`);
  return dir;
}

describe('the playground page', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set C4C_CHROMIUM)`);
    project = await makeProject();
    dev = spawnCli(['dev', '--port', '0'], { cwd: project });
    await dev.waitForLine('Talk to it:');
    state = JSON.parse(await readFile(join(project, '.c4c', 'dev.json'), 'utf8')) as DevState;
    // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${state.url}/`);
  });

  afterAll(async () => {
    const shot = process.env.C4C_PLAYGROUND_SCREENSHOT;
    if (shot && page) await page.screenshot({ path: resolve(ROOT, shot) });
    await browser?.close();
    await dev?.stop('SIGKILL');
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('chats as the employer: the message and the handler reply appear live', async () => {
    const chat = page.locator(`.chat[data-employment="${state.employmentId}"]`);
    await chat.locator('input[name="content"]').fill('hello from the page');
    await chat.getByRole('button', { name: 'Send' }).click();
    await chat.locator('li.mine', { hasText: 'hello from the page' }).waitFor();
    await chat.locator('li.theirs', { hasText: 'echo: hello from the page' }).waitFor();
    // The outcome line follows, under the chat and in the log.
    await chat.locator('li.outcome', { hasText: /replied in \d+ ms/ }).waitFor();
    await page.locator('#log li[data-kind="outcome"]', { hasText: 'echo: hello from the page' }).waitFor();
    // And the agent really got it: dev printed the frame.
    await dev.waitForLine('  Content: hello from the page');
  });

  it('raises an event from its button and shows the outcome', async () => {
    await page.locator('button[data-event="service-invoked"]').click();
    const status = page.locator('#emit-status');
    await status.getByText(/✓ service-invoked raised/).waitFor();
    await status.getByText(/invocation \d+ completed in \d+ ms: \{"upper":"HELLO"\}/).waitFor();
    expect(await status.textContent()).not.toContain('waiting for the outcome');
  });

  it('shows the handlers panel: loaded files and the one that failed, with its error', async () => {
    const panel = page.locator('#handlers');
    await panel.locator('li[data-file="handlers/message.ts"]', { hasText: '✓' }).waitFor();
    const broken = panel.locator('li[data-file="handlers/task-accepted.ts"]');
    await broken.getByText(/could not be loaded/).waitFor();
    expect(await broken.textContent()).toContain('✗');
  });
});

describe('the playground page of a lone `c4c-runner platform`', () => {
  it('has no handlers panel, and its buttons raise events that show in the live log', async () => {
    const platform = spawnCli(['platform', '--port', '0']);
    const lone = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      const url = /listening on (http:\/\/\S+)/.exec(
        await platform.waitForLine(/listening on http:\/\//),
      )![1]!;
      const tab = await lone.newPage();
      await tab.goto(`${url}/`);
      await tab.locator('.chat[data-employment="1"]').waitFor();
      await tab.locator('button[data-event="employment-offered"]').click();
      await tab
        .locator('#emit-status')
        .getByText(/✓ employment-offered raised \{"employmentId":\d+\}/)
        .waitFor();
      await tab
        .locator('#log li[data-kind="notification"]', { hasText: 'to Local Agent: employment-offered' })
        .waitFor();
      expect(await tab.locator('#handlers-section').isHidden()).toBe(true);
      // The new employment got its own chat box.
      await tab.locator('.chat[data-employment="2"]').waitFor();
    } finally {
      await lone.close();
      await platform.stop('SIGKILL');
    }
  });
});
