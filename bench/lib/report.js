/**
 * The results as Markdown: every figure is the median over runs with (min–max), and every
 * comparison is computed per run (runner vs the baseline of the same run) before the median.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { summarize, formatSummary } from './stats.js';
import { SLOW_IDEAL } from '../cases/slow.js';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';
const LEVELS = [1, 16, 256];
/** Issue 17's targets: runner vs raw ws through the null platform, and the runner's CPU per reply at 16. */
const NULL_TARGETS = [
  [16, 0.75],
  [256, 0.7],
  [1, 0.9],
];
const NULL_CPU_TARGET_US = 20;
const SLOW_TARGET = 0.99;
const STARTUP_TARGET = 1.5;
const RSS_TARGET = 1.3;

const per = (rows, fn) => summarize(rows.map(fn));
const int = (v) => Math.round(v).toLocaleString('en-US');
const rate = (s) => (s.n ? `${int(s.median)}/s (${int(s.min)}–${int(s.max)})` : 'n/a');
const verdict = (ok) => (ok ? 'met' : '**missed**');
const signed = (s, unit) => {
  if (!s.n) return 'n/a';
  const f = (v) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(0)}`;
  return `${f(s.median)}${unit} (${f(s.min)} to ${f(s.max)})`;
};
const pct = (s) => (s.n ? `${Math.round(s.median * 100)}%` : 'n/a');

/** The whole report: machine line, the targets table, then the tables that explain it. */
export function buildReport(results) {
  const m = results.machine;
  const out = [];
  out.push(
    `Machine: ${m.cpu}, ${m.nproc} cores (nproc), ${m.memGiB} GiB, ${m.platform}, Node ${m.node}; ` +
      `load average at start ${m.loadavg}; ${results.runs} runs${results.quick ? ' (quick mode: short windows, not for publication)' : ''}; ` +
      `${results.elapsedSeconds ?? '?'} s in all; ${m.date}.`,
    '',
    '| case | baseline | c4c-runner | c4c-runner vs baseline | target | |',
    '|---|---|---|---|---|---|',
  );
  const nul = results.nullEcho ?? [];
  if (nul.length) {
    for (const [n, target] of NULL_TARGETS) {
      const ratio = per(nul, (r) => r.runner[n].rate / r.raw[n].rate);
      out.push(
        `| **null platform**, echo, ${n} in flight: throughput | raw ws: ${rate(per(nul, (r) => r.raw[n].rate))} | ${rate(per(nul, (r) => r.runner[n].rate))} | ` +
          `${formatSummary(ratio, 2, '×')} | ≥ ${target.toFixed(2)}× | ${verdict(ratio.median >= target)} |`,
      );
    }
    const cpu = per(nul, (r) => r.runner[16].agentUsPerMsg);
    out.push(
      `| **null platform**, echo, 16 in flight: agent CPU per reply | raw ws: ${formatSummary(
        per(nul, (r) => r.raw[16].agentUsPerMsg),
        1,
        ' µs',
      )} | ${formatSummary(cpu, 1, ' µs')} | ${formatSummary(
        per(nul, (r) => r.runner[16].agentUsPerMsg / r.raw[16].agentUsPerMsg),
        1,
        '×',
      )} | ≤ ${NULL_CPU_TARGET_US} µs | ${verdict(cpu.median <= NULL_CPU_TARGET_US)} |`,
      `| **null platform**, echo, 1 in flight: p50 latency | raw ws: ${formatSummary(
        per(nul, (r) => r.raw[1].p50),
        0,
        ' µs',
      )} | ${formatSummary(
        per(nul, (r) => r.runner[1].p50),
        0,
        ' µs',
      )} | ${signed(
        per(nul, (r) => r.runner[1].p50 - r.raw[1].p50),
        ' µs',
      )} | — | |`,
    );
  }
  const echo = results.echo;
  if (echo.length) {
    // Through the embedded platform both agents share the platform's ceiling: the end-to-end view,
    // without a target of its own (the targets are on the null platform, where the agent is the limit).
    for (const n of [16, 256, 1]) {
      const ratio = per(echo, (r) => r.runner[n].rate / r.raw[n].rate);
      out.push(
        `| via the embedded platform, echo, ${n} in flight: throughput | raw ws: ${rate(per(echo, (r) => r.raw[n].rate))} | ${rate(per(echo, (r) => r.runner[n].rate))} | ` +
          `${formatSummary(ratio, 2, '×')} | — | |`,
      );
    }
    const diff = per(echo, (r) => r.runner[1].p50 - r.raw[1].p50);
    out.push(
      `| via the embedded platform, echo, 1 in flight: p50 latency | raw ws: ${formatSummary(
        per(echo, (r) => r.raw[1].p50),
        0,
        ' µs',
      )} | ${formatSummary(
        per(echo, (r) => r.runner[1].p50),
        0,
        ' µs',
      )} | ` + `${signed(diff, ' µs')} | — | |`,
    );
  }
  const slow = results.slow;
  if (slow.length) {
    const ratio = per(slow, (r) => r.runner.rate / SLOW_IDEAL);
    out.push(
      `| slow handlers: throughput (100 ms handler, concurrency 256, 1,000 employments) | ideal: ${int(SLOW_IDEAL)}/s (raw ws: ${rate(per(slow, (r) => r.raw.rate))}) | ` +
        `${rate(per(slow, (r) => r.runner.rate))} | ${formatSummary(ratio, 3, '×')} of ideal | ≥ ${SLOW_TARGET}× | ${verdict(ratio.median >= SLOW_TARGET)} |`,
    );
  }
  const reload = results.reload;
  if (reload?.runs?.length) {
    const hot = per(reload.runs, (r) => r.reloadMs);
    const speedup = per(reload.runs, (r) => r.restartMs / r.reloadMs);
    out.push(
      `| hot reload: save → first reply from the new code | restart + reconnect: ${formatSummary(
        per(reload.runs, (r) => r.restartMs),
        0,
        ' ms',
      )} | ` +
        `${reload.via}: ${formatSummary(hot, 1, ' ms')} | ${formatSummary(speedup, 0, '×')} faster | ≤ 25 ms and ≥ 15× | ${verdict(hot.median <= 25 && speedup.median >= 15)} |`,
    );
  }
  const startup = results.startup;
  if (startup.length) {
    const spawn = per(startup, (r) => r.runner.spawnMs / r.raw.spawnMs);
    const rss = per(startup, (r) => r.runner.rssMiB / r.raw.rssMiB);
    out.push(
      `| start-up: spawn → connected | raw ws: ${formatSummary(
        per(startup, (r) => r.raw.spawnMs),
        0,
        ' ms',
      )} | ${formatSummary(
        per(startup, (r) => r.runner.spawnMs),
        0,
        ' ms',
      )} | ` +
        `${formatSummary(spawn, 2, '×')} | ≤ ${STARTUP_TARGET}× | ${verdict(spawn.median <= STARTUP_TARGET)} |`,
      `| idle RSS (20 echoes, then 1 s idle) | raw ws: ${formatSummary(
        per(startup, (r) => r.raw.rssMiB),
        1,
        ' MiB',
      )} | ${formatSummary(
        per(startup, (r) => r.runner.rssMiB),
        1,
        ' MiB',
      )} | ` + `${formatSummary(rss, 2, '×')} | ≤ ${RSS_TARGET}× | ${verdict(rss.median <= RSS_TARGET)} |`,
    );
  }

  if (nul.length) {
    out.push(
      '',
      'Echo through the null platform in detail (bench/lib/null-platform.js: the bench process is the platform and the load',
      'generator, and costs a few µs per reply). "CPU/msg" is CPU time per reply (µs) of the agent process and of the bench',
      'process over the measured window; "pings/reply" counts the WebSocket pings the agent sent (the runner asks the platform',
      'to confirm delivery after each write burst), "acks/reply" its `messages/read` calls.',
      '',
      '| subject | in flight | replies/s | vs raw ws | p50 | p99 | agent CPU/msg | bench CPU/msg | agent CPU | bench CPU | pings/reply | acks/reply |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const [key, label] of [
      ['raw', 'raw ws agent'],
      ['runner', '`c4c-runner start`'],
    ]) {
      for (const n of LEVELS) {
        const vsRaw =
          key === 'raw'
            ? '1'
            : formatSummary(
                per(nul, (r) => r[key][n].rate / r.raw[n].rate),
                2,
                '×',
              );
        out.push(
          `| ${label} | ${n} | ${rate(per(nul, (r) => r[key][n].rate))} | ${vsRaw} | ` +
            `${int(per(nul, (r) => r[key][n].p50).median)} µs | ${int(per(nul, (r) => r[key][n].p99).median)} µs | ` +
            `${formatSummary(
              per(nul, (r) => r[key][n].agentUsPerMsg),
              1,
            )} µs | ${int(per(nul, (r) => r[key][n].benchUsPerMsg).median)} µs | ` +
            `${pct(per(nul, (r) => r[key][n].agentCpu))} | ${pct(per(nul, (r) => r[key][n].benchCpu))} | ` +
            `${per(nul, (r) => r[key][n].pingsPerReply).median.toFixed(3)} | ${per(nul, (r) => r[key][n].readsPerReply).median.toFixed(3)} |`,
        );
      }
    }
    const calls = nul[0].runner.platform?.rest ?? {};
    const unexpected = [
      ...new Set(
        nul.flatMap((r) => [...(r.raw.platform?.unexpected ?? []), ...(r.runner.platform?.unexpected ?? [])]),
      ),
    ];
    out.push(
      '',
      `Before measuring, the bench waits for a reply on the 1,000th employment: raw ws ${formatSummary(
        per(nul, (r) => r.raw.catchUpMs),
        0,
        ' ms',
      )}, c4c-runner ${formatSummary(
        per(nul, (r) => r.runner.catchUpMs),
        0,
        ' ms',
      )} (its catch-up reads 1,000 empty histories from the null platform at start). ` +
        `REST calls the runner made in the first run: ${
          Object.entries(calls)
            .map(([route, n]) => `${route} ${int(n)}`)
            .join(', ') || 'none'
        }; ${unexpected.length ? `**calls the null platform had no answer for: ${unexpected.join(', ')}**` : 'none the null platform had no answer for'}.`,
    );
  }
  if (echo.length) {
    out.push(
      '',
      'Echo via the embedded platform in detail (the end-to-end view). Rates are replies/s; "CPU/msg" is CPU time per reply (µs) of the agent process and of the bench process',
      '(platform + load generator), measured over the same window — the figure that shows who is the bottleneck.',
      '',
      '| subject | in flight | replies/s | vs raw ws | p50 | p99 | agent CPU/msg | bench CPU/msg | agent CPU | bench CPU |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    const subjects = [
      ['raw', 'raw ws agent via the platform'],
      ['runner', '`c4c-runner start`'],
      ['runnerNoAck', '`c4c-runner start`, `ack: false`'],
      ['relay', 'raw ws agent via a bare relay (no platform)'],
    ].filter(([key]) => echo[0][key]);
    for (const [key, label] of subjects) {
      for (const n of LEVELS) {
        const vsRaw =
          key === 'raw'
            ? '1'
            : formatSummary(
                per(echo, (r) => r[key][n].rate / r.raw[n].rate),
                2,
                '×',
              );
        out.push(
          `| ${label} | ${n} | ${rate(per(echo, (r) => r[key][n].rate))} | ${vsRaw} | ` +
            `${int(per(echo, (r) => r[key][n].p50).median)} µs | ${int(per(echo, (r) => r[key][n].p99).median)} µs | ` +
            `${int(per(echo, (r) => r[key][n].agentUsPerMsg).median)} µs | ${int(per(echo, (r) => r[key][n].benchUsPerMsg).median)} µs | ` +
            `${pct(per(echo, (r) => r[key][n].agentCpu))} | ${pct(per(echo, (r) => r[key][n].benchCpu))} |`,
        );
      }
    }
  }
  if (echo.length && echo[0].runner.catchUpMs !== undefined) {
    out.push(
      '',
      `Before measuring, the bench waits for a reply on the 1,000th employment, right after the agent connected: ` +
        `raw ws ${formatSummary(
          per(echo, (r) => r.raw.catchUpMs),
          0,
          ' ms',
        )}, c4c-runner ${formatSummary(
          per(echo, (r) => r.runner.catchUpMs),
          0,
          ' ms',
        )} ` +
        `(its catch-up reads the history of all 1,000 employments at start and holds their live messages until then).`,
    );
  }
  if (slow.length) {
    out.push(
      '',
      '| slow handlers | replies/s | of ideal | p50 latency | agent CPU | bench CPU |',
      '|---|---|---|---|---|---|',
    );
    for (const [key, label] of [
      ['raw', 'raw ws agent (a counter and a FIFO as its limiter)'],
      ['runner', '`c4c-runner start`'],
      ['runnerNoAck', '`c4c-runner start`, `ack: false`'],
    ]) {
      if (!slow[0][key]) continue;
      out.push(
        `| ${label} | ${rate(per(slow, (r) => r[key].rate))} | ${formatSummary(
          per(slow, (r) => r[key].rate / SLOW_IDEAL),
          3,
          '×',
        )} | ` +
          `${int(per(slow, (r) => r[key].p50).median)} ms | ${pct(per(slow, (r) => r[key].agentCpu))} | ${pct(per(slow, (r) => r[key].benchCpu))} |`,
      );
    }
  }
  if (results.startupCold) {
    out.push(
      '',
      `Start-up: the runs above start a project whose c4c.config.ts and handlers were already transpiled ` +
        `(the config kept by c4c-runner in node_modules/.cache/c4c-runner, the handlers in jiti's cache), as a restarted agent does. The very first start of a project ` +
        `took ${int(results.startupCold.spawnMs)} ms to connect and sat at ${results.startupCold.rssMiB.toFixed(1)} MiB (it transpiles, loading babel). ` +
        `These starts are in a world of one employment, like the default world; in the 1,000-employment world of the other cases, ` +
        `where catch-up reads every employment's history at start, the runner connected in ${formatSummary(
          per(startup, (r) => r.runnerWide.spawnMs),
          0,
          ' ms',
        )} ` +
        `and idled at ${formatSummary(
          per(startup, (r) => r.runnerWide.rssMiB),
          1,
          ' MiB',
        )}.`,
    );
  }
  if (reload?.runs?.length) {
    const load = per(reload.runs, (r) => r.devLoadMs);
    out.push(
      '',
      `Hot reload: ${reload.runs[0].reloadAll.length} saves and ${reload.runs[0].restartAll.length} restarts per run. ` +
        `The figure is the median of saves 2–${reload.runs[0].reloadAll.length}; the first save after start took ` +
        `${formatSummary(
          per(reload.runs, (r) => r.firstReloadMs),
          0,
          ' ms',
        )} (it loads the TypeScript transform). ` +
        `Of a reload, the module load that dev itself reports ("reloaded … in N ms") is ${formatSummary(load, 0, ' ms')}; ` +
        `the rest is the watcher (chokidar's event and dev's settle wait) and the round trip of the first reply. ` +
        `Dev's RSS changed by ${formatSummary(
          per(reload.runs, (r) => r.rssGrowthMiB),
          1,
          ' MiB',
        )} over the ${reload.runs[0].reloadAll.length} saves.`,
    );
  }
  const lost = [];
  for (const row of echo) {
    for (const [key, levels] of Object.entries(row)) {
      for (const [n, x] of Object.entries(levels))
        if (x.lost) lost.push(`${x.lost} (${key}, ${n} in flight)`);
    }
  }
  for (const row of slow)
    for (const [key, x] of Object.entries(row)) if (x.lost) lost.push(`${x.lost} (${key}, slow)`);
  out.push(
    '',
    lost.length
      ? `**Replies that never came** (10–15 s after a window closed): ${lost.join(', ')}.`
      : 'Every message sent got its reply (none outstanding 10 s after a window closed).',
  );
  return out.join('\n');
}

/** The short table of the README's Benchmarks section: one line per target. */
export function buildReadmeTable(results) {
  const rows = ['| case | c4c-runner vs baseline | target |', '|---|---|---|'];
  const nul = results.nullEcho ?? [];
  if (nul.length) {
    for (const [n, target] of NULL_TARGETS) {
      rows.push(
        `| echo throughput, ${n} in flight, vs raw ws (null platform) | ${formatSummary(
          per(nul, (r) => r.runner[n].rate / r.raw[n].rate),
          2,
          '×',
        )} | ≥ ${target.toFixed(2)}× |`,
      );
    }
    rows.push(
      `| runner CPU per reply, 16 in flight (null platform; raw ws: ${formatSummary(
        per(nul, (r) => r.raw[16].agentUsPerMsg),
        0,
        ' µs',
      )}) | ${formatSummary(
        per(nul, (r) => r.runner[16].agentUsPerMsg),
        0,
        ' µs',
      )} | ≤ ${NULL_CPU_TARGET_US} µs |`,
      `| echo p50 latency, 1 in flight, vs raw ws (null platform) | ${signed(
        per(nul, (r) => r.runner[1].p50 - r.raw[1].p50),
        ' µs',
      )} | — |`,
    );
  }
  const echo = results.echo;
  if (echo.length) {
    rows.push(
      `| echo throughput, 16 in flight, vs raw ws, via the embedded platform (end to end) | ${formatSummary(
        per(echo, (r) => r.runner[16].rate / r.raw[16].rate),
        2,
        '×',
      )} | — |`,
    );
  }
  if (results.slow.length) {
    rows.push(
      `| 100 ms handlers at concurrency 256, vs ideal 2,560/s | ${formatSummary(
        per(results.slow, (r) => r.runner.rate / SLOW_IDEAL),
        3,
        '×',
      )} | ≥ ${SLOW_TARGET}× |`,
    );
  }
  if (results.reload?.runs?.length) {
    const runs = results.reload.runs;
    rows.push(
      `| hot reload, save → new reply (\`dev\`) | ${formatSummary(
        per(runs, (r) => r.reloadMs),
        0,
        ' ms',
      )}, ${formatSummary(
        per(runs, (r) => r.restartMs / r.reloadMs),
        0,
        '×',
      )} faster than a restart | ≤ 25 ms, ≥ 15× |`,
    );
  }
  if (results.startup.length) {
    rows.push(
      `| start-up, spawn → connected, vs raw ws | ${formatSummary(
        per(results.startup, (r) => r.runner.spawnMs / r.raw.spawnMs),
        2,
        '×',
      )} | ≤ ${STARTUP_TARGET}× |`,
    );
    rows.push(
      `| idle RSS vs raw ws | ${formatSummary(
        per(results.startup, (r) => r.runner.rssMiB / r.raw.rssMiB),
        2,
        '×',
      )} | ≤ ${RSS_TARGET}× |`,
    );
  }
  const m = results.machine;
  rows.push(
    '',
    `${m.cpu}, ${m.nproc} cores, Node ${m.node}, ${m.date.slice(0, 10)}; load average at start ${m.loadavg} (the machine is shared: read the ratios, not the rates).`,
  );
  return rows.join('\n');
}

/** Replaces the block between the result markers of docs/benchmarks.md (appends one if missing). */
export function writeBenchmarksMd(file, report) {
  writeBlock(file, START, END, report);
}

/** Replaces the README's benchmark block (between its markers). */
export function writeReadmeTable(file, table) {
  writeBlock(file, '<!-- bench:readme:start -->', '<!-- bench:readme:end -->', table);
}

function writeBlock(file, START, END, report) {
  const block = `${START}\n${report}\n${END}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + END.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
