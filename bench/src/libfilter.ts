/**
 * libfilter: what SCOPE_FILTER with 64 scopes costs inside libscope. The same four kinds of scope as
 * the scope-filter part (16 each), made to fit the process: comm=<the program> with fs.open of its
 * files (a data filter), http.resp for a target prefix that nginx's page has (a data filter),
 * net.* with a port range,
 * and pid=4300 + sourcetype=console (no match). The process matches 48 of the 64. One untimed run
 * per workload with SCOPE_LOG_LEVEL=info first checks libscope took the filter ("SCOPE_FILTER:
 * scopes …, this process matches …", a non-zero mask, no "bad filter").
 *
 * Then, interleaved, medians: the rwloop (1 M tiny reads + writes, whole process) and the nginx
 * HTTP/1.1 case, scoped with metrics only, with and without the filter; and (where the filter
 * does work: each event is matched in the reporting thread) nginx with all events on, with and
 * without. Ratio: with the filter ÷ without (time for rwloop; requests/s for nginx).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx, Scoped } from './common.js';
import { arg, clearRecords, median, mustHaveRecorded, r1, r3, scoped, timeRwloop } from './common.js';
import { makeSite, nginxNeeds, nginxRun } from './nginx.js';
import type { Site } from './nginx.js';

/** SCOPE_FILTER's text: `N:filter` joined by `;` (`\;` and `\\` inside one). */
export function scopeFilter64(comm: string, fileDir: string, target: string): string {
  const f: string[] = [];
  const esc = (x: string) => x.replace(/\\/g, '\\\\').replace(/;/g, '\\;');
  for (let i = 1; i <= 64; i++) {
    const add = (...xs: string[]) => xs.forEach((x) => f.push(`${i}:${esc(x)}`));
    if (i % 4 === 0) add(`comm=${comm}`, 'event=fs.open', `fs.open.data.file=${fileDir}/page${i}*`);
    else if (i % 4 === 1) add('event=http.resp', `http.resp.data.http_target=${target}*`);
    else if (i % 4 === 2) add('event=net.*', `net.open.data.net_peer_port>${40000 + i * 100}`);
    else add('pid=4300', 'sourcetype=console');
  }
  return f.join(';');
}

/** The line libscope logs at info when it took the filter; throws unless the process matches some scope. */
function checkTaken(s: Scoped, what: string): string {
  const log = readFileSync(s.log, 'utf8');
  const bad = /SCOPE_FILTER: bad filter[^\n]*/.exec(log);
  if (bad) throw new Error(`${what}: ${bad[0]}`);
  // the last one: taskset, when it pins, logs its own before it execs the workload
  const m = [...log.matchAll(/SCOPE_FILTER: scopes ([0-9a-f]+), this process matches ([0-9a-f]+)/g)].pop();
  if (!m) throw new Error(`${what}: libscope did not log taking SCOPE_FILTER: ${log.slice(0, 400)}`);
  if (BigInt(`0x${m[2]}`) === 0n) throw new Error(`${what}: the process matches none of the 64 scopes (${m[0]})`);
  return m[0];
}

export async function libfilter(c: Ctx, rwloopProg: string, runs: number, ops: number): Promise<void> {
  const out: Record<string, unknown> = {};
  const rwFilter = scopeFilter64('rwloop', '/dev', '/index');
  const without = scoped(c, 'libfilter-rw', 'metrics_only');
  const withF = scoped(c, 'libfilter-rw-f', 'metrics_only', { SCOPE_FILTER: rwFilter });
  {
    const check = scoped(c, 'libfilter-rw-check', 'metrics_only', { SCOPE_FILTER: rwFilter, SCOPE_LOG_LEVEL: 'info' });
    spawnSync(rwloopProg, ['1000'], { env: check.env, stdio: 'ignore' });
    out['rwloop_filter_taken'] = checkTaken(check, 'libfilter (rwloop)');
    clearRecords(check);
  }
  const time = (s: Scoped) => {
    clearRecords(s);
    return timeRwloop(rwloopProg, ops, s.env);
  };
  time(without);
  time(withF);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(time(without));
    b.push(time(withF));
  }
  await mustHaveRecorded(withF, 'libfilter (rwloop)', 'fs');
  const ra = median(b) / median(a);
  out['rwloop'] = { ops: { reads: ops, writes: ops }, runs, metrics_only_ms_median: r1(median(a)), with_filter_ms_median: r1(median(b)), ratio: r3(ra) };
  c.budgets.push({
    what: 'SCOPE_FILTER (64 scopes) cost: rwloop, metrics only, time with ÷ without',
    measured: `${ra.toFixed(3)} (${median(a).toFixed(0)} → ${median(b).toFixed(0)} ms)`,
    budget: '—',
    within: true,
    value: ra,
  });
  process.stdout.write(
    `libfilter: SCOPE_FILTER of 64 scopes (48 match the process)\n` +
      `  rwloop ${ops} reads + writes, metrics only, median of ${runs}: without ${median(a).toFixed(1)} ms, with ${median(b).toFixed(1)} ms: ${ra.toFixed(3)}\n`,
  );
  clearRecords(without);
  clearRecords(withF);

  const skip = nginxNeeds('http');
  if (skip) {
    process.stdout.write(`  nginx: ${skip}\n`);
    out['nginx'] = { skipped: skip };
  } else {
    const nginxRuns = arg('nginx-runs', 5);
    const secs = arg('nginx-secs', 5);
    const site: Site = await makeSite(c, 'http', 'libfilter');
    const f = scopeFilter64('nginx', join(site.dir, 'html'), '/index');
    const modes: [string, Scoped][] = [
      ['metrics_only', scoped(c, 'libfilter-ngx-m', 'metrics_only')],
      ['metrics_only_filter', scoped(c, 'libfilter-ngx-mf', 'metrics_only', { SCOPE_FILTER: f })],
      ['all_events', scoped(c, 'libfilter-ngx-e', 'all_events')],
      ['all_events_filter', scoped(c, 'libfilter-ngx-ef', 'all_events', { SCOPE_FILTER: f })],
    ];
    {
      const check = scoped(c, 'libfilter-ngx-check', 'all_events', { SCOPE_FILTER: f, SCOPE_LOG_LEVEL: 'info' });
      await nginxRun(site, { env: check.env, secs: 1 });
      out['nginx_filter_taken'] = checkTaken(check, 'libfilter (nginx)');
      clearRecords(check);
    }
    const got: Record<string, number[]> = Object.fromEntries(modes.map(([k]) => [k, []]));
    await nginxRun(site, { env: c.plainEnv, secs }); // warm up
    for (let i = 0; i < nginxRuns; i++)
      for (const [k, s] of modes) {
        clearRecords(s);
        got[k]!.push((await nginxRun(site, { env: s.env, secs })).rps);
        // the filtered all-events run keeps what its scopes select: http.resp of /index… among them
        await mustHaveRecorded(s, `libfilter (nginx ${k})`, 'http');
        clearRecords(s);
      }
    const med = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, median(v)])) as Record<string, number>;
    const rm = med['metrics_only_filter']! / med['metrics_only']!;
    const re = med['all_events_filter']! / med['all_events']!;
    out['nginx'] = {
      runs: nginxRuns,
      seconds: secs,
      requests_per_sec_median: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, r1(v)])),
      ratio_metrics_only: r3(rm),
      ratio_all_events: r3(re),
    };
    c.budgets.push({
      what: 'SCOPE_FILTER (64 scopes) cost: nginx, metrics only, req/s with ÷ without',
      measured: `${rm.toFixed(3)} (${med['metrics_only']!.toFixed(0)} → ${med['metrics_only_filter']!.toFixed(0)} req/s)`,
      budget: '—',
      within: true,
      value: rm,
    });
    c.budgets.push({
      what: 'SCOPE_FILTER (64 scopes) cost: nginx, all events, req/s with ÷ without',
      measured: `${re.toFixed(3)} (${med['all_events']!.toFixed(0)} → ${med['all_events_filter']!.toFixed(0)} req/s)`,
      budget: '—',
      within: true,
      value: re,
    });
    process.stdout.write(
      `  nginx under wrk (${secs} s), median of ${nginxRuns}: metrics only ${med['metrics_only']!.toFixed(0)} → with the filter ${med['metrics_only_filter']!.toFixed(0)} req/s (${rm.toFixed(3)}); ` +
        `all events ${med['all_events']!.toFixed(0)} → ${med['all_events_filter']!.toFixed(0)} req/s (${re.toFixed(3)})\n`,
    );
  }
  c.latest['libfilter'] = out;
}
