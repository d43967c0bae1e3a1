/**
 * memory: the resident memory libscope adds to a process, scoped minus plain, medians of
 * interleaved runs.
 *  (a) idle: `sleep 2`, VmRSS (and Pss from smaps_rollup) read from /proc/PID after 1 s; scoped
 *      with libscope's defaults (events and metrics on, file destinations). Budget ≤ 2 MiB.
 *  (b) busy: nginx (HTTP/1.1 keep-alive, one worker) under wrk, read half a second before the end
 *      of the wrk run; plain and all events on. Budget ≤ 8 MiB.
 * Every scoped sample checks libscope is mapped in the process, every plain one that it is not.
 */
import type { ChildProcess } from 'node:child_process';
import type { Ctx } from './common.js';
import { arg, clearRecords, hasLib, median, memoryOf, mustHaveRecorded, runAsync, scoped } from './common.js';
import { makeSite, nginxNeeds, nginxRun } from './nginx.js';

type Mem = { rss_kib: number; pss_kib: number | null };

async function idleSample(env: NodeJS.ProcessEnv, lib: string | null): Promise<Mem> {
  let mem: Mem | undefined;
  let err: string | undefined;
  const r = await runAsync('sleep', ['2'], {
    env,
    timeoutMs: 20_000,
    onSpawn: (ch: ChildProcess) => {
      setTimeout(() => {
        try {
          const mapped = hasLib(ch.pid as number, lib ?? undefined);
          if (mapped !== (lib !== null)) err = `libscope is ${mapped ? '' : 'not '}mapped in the ${lib !== null ? 'scoped' : 'plain'} sleep`;
          mem = memoryOf(ch.pid as number);
        } catch (e) {
          err = String(e);
        }
      }, 1000);
    },
  });
  if (r.status !== 0) throw new Error(`sleep 2 exited ${r.status}: ${r.stderr}`);
  if (err !== undefined || mem === undefined) throw new Error(`memory (idle): ${err ?? 'not read'}`);
  return mem;
}

const mib = (kib: number) => kib / 1024;
const r2 = (x: number) => Number(x.toFixed(2));
const added = (s: Mem[], p: Mem[], k: keyof Mem): number | null =>
  s.every((x) => x[k] !== null) && p.every((x) => x[k] !== null) ? median(s.map((x) => x[k] as number)) - median(p.map((x) => x[k] as number)) : null;

export async function memory(c: Ctx): Promise<void> {
  const runs = arg('memory-runs', 5);
  const out: Record<string, unknown> = { runs };

  // (a) idle
  const idleScope = scoped(c, 'memory-idle', 'metrics_only', { SCOPE_EVENT_ENABLE: 'true' });
  const ip: Mem[] = [];
  const is: Mem[] = [];
  for (let i = 0; i < runs; i++) {
    ip.push(await idleSample(c.plainEnv, null));
    clearRecords(idleScope);
    is.push(await idleSample(idleScope.env, c.lib));
  }
  await mustHaveRecorded(idleScope, 'memory (idle sleep)', 'fs');
  clearRecords(idleScope);
  const idleRss = added(is, ip, 'rss_kib')!;
  const idlePss = added(is, ip, 'pss_kib');
  out['idle'] = {
    program: 'sleep 2, read after 1 s',
    plain_rss_kib_median: median(ip.map((x) => x.rss_kib)),
    scoped_rss_kib_median: median(is.map((x) => x.rss_kib)),
    added_rss_mib: r2(mib(idleRss)),
    ...(idlePss !== null ? { added_pss_mib: r2(mib(idlePss)) } : {}),
    budget_mib: 2,
  };
  c.budgets.push({
    what: 'resident memory libscope adds, idle (`sleep 2`, VmRSS after 1 s)',
    measured: `${mib(idleRss).toFixed(2)} MiB${idlePss !== null ? ` (Pss ${mib(idlePss).toFixed(2)})` : ''}`,
    budget: '≤ 2 MiB',
    within: mib(idleRss) <= 2,
    value: mib(idleRss),
  });
  process.stdout.write(
    `memory, idle (sleep 2, VmRSS after 1 s), median of ${runs}: plain ${median(ip.map((x) => x.rss_kib))} KiB, scoped ${median(is.map((x) => x.rss_kib))} KiB: ` +
      `+${mib(idleRss).toFixed(2)} MiB${idlePss !== null ? ` (Pss +${mib(idlePss).toFixed(2)} MiB)` : ''} (budget ≤ 2 MiB)\n`,
  );

  // (b) busy: nginx under wrk, all events on
  const skip = nginxNeeds('http');
  if (skip) {
    process.stdout.write(`memory, busy (nginx under wrk): ${skip}\n`);
    out['busy'] = { skipped: skip };
  } else {
    const secs = arg('memory-secs', arg('nginx-secs', 5));
    const site = await makeSite(c, 'http', 'memory');
    const s = scoped(c, 'memory-nginx', 'all_events');
    const bp: Mem[] = [];
    const bs: Mem[] = [];
    const at = Math.max(0.5, secs - 0.5);
    await nginxRun(site, { env: c.plainEnv, secs }); // warm up
    for (let i = 0; i < runs; i++) {
      const p = await nginxRun(site, { env: c.plainEnv, secs, sampleAtSecs: at, expectLib: false });
      bp.push(p.memory!);
      clearRecords(s);
      const sc = await nginxRun(site, { env: s.env, secs, sampleAtSecs: at, expectLib: true });
      bs.push(sc.memory!);
      await mustHaveRecorded(s, 'memory (nginx)', 'http');
      clearRecords(s);
    }
    const busyRss = added(bs, bp, 'rss_kib')!;
    const busyPss = added(bs, bp, 'pss_kib');
    out['busy'] = {
      program: `nginx (1 worker) under wrk -c16, ${secs} s, read at ${at} s; all events on`,
      plain_rss_kib_median: median(bp.map((x) => x.rss_kib)),
      scoped_rss_kib_median: median(bs.map((x) => x.rss_kib)),
      added_rss_mib: r2(mib(busyRss)),
      ...(busyPss !== null ? { added_pss_mib: r2(mib(busyPss)) } : {}),
      budget_mib: 8,
    };
    c.budgets.push({
      what: 'resident memory libscope adds, nginx under wrk (all events on)',
      measured: `${mib(busyRss).toFixed(2)} MiB${busyPss !== null ? ` (Pss ${mib(busyPss).toFixed(2)})` : ''}`,
      budget: '≤ 8 MiB',
      within: mib(busyRss) <= 8,
      value: mib(busyRss),
    });
    process.stdout.write(
      `memory, busy (nginx under wrk, all events), median of ${runs}: plain ${median(bp.map((x) => x.rss_kib))} KiB, scoped ${median(bs.map((x) => x.rss_kib))} KiB: ` +
        `+${mib(busyRss).toFixed(2)} MiB${busyPss !== null ? ` (Pss +${mib(busyPss).toFixed(2)} MiB)` : ''} (budget ≤ 8 MiB)\n`,
    );
  }
  c.latest['memory'] = out;
}
