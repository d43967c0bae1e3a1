/**
 * eventrate: how many events one process gets recorded without a drop (budget ≥ 300 000 / s).
 *
 * bench/c/eventrate.c opens and closes a file under the work directory at a target rate (each call
 * an fs.open or fs.close event), paced in millisecond batches, for N seconds (10 by default), pinned
 * to one CPU like percall, so libscope's reporting thread shares that CPU with the app
 * (--eventrate-unpinned: not pinned, the reporting thread may run on the other CPU). libscope:
 * fs events only, SCOPE_EVENT_MAXEPS=0 (no rate limit), file destination. Rising targets; each run:
 * the calls made (the program says), the events in the file for that file, the drops libscope
 * logged ("libscope dropped N records"), the achieved rate, and the CPU of each thread over the
 * run from /proc/PID/task/TID/stat (the program is single-threaded, so the thread that is not the
 * main one, tid ≠ pid, is libscope's reporting thread: it keeps the program's comm). Stops at the
 * first target with drops or lost events: where it saturates.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from './common.js';
import { arg, clearRecords, clockTicks, pinCpu, recorded, runAsync, scoped, strArg, threadTicks } from './common.js';

interface EventrateOut {
  target: number;
  seconds: number;
  batch: number;
  iterations: number;
  calls: number;
  elapsed_s: number;
  calls_per_s: number;
  late_batches: number;
}

interface Step {
  target_events_per_s: number;
  calls: number;
  elapsed_s: number;
  achieved_calls_per_s: number;
  events_written: number;
  events_lost: number;
  drops_logged: number;
  zero_drops: boolean;
  app_kept_pace: boolean;
  late_batches: number;
  /** CPU share of each thread (1 = one whole CPU) from 1 s in to the end of the run */
  thread_cpu: Record<string, number>;
}

export async function eventrate(c: Ctx): Promise<void> {
  const prog = join(c.buildDir, 'eventrate');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', prog, join(c.benchDir, 'c/eventrate.c')]);
  const targets = (strArg('eventrate-targets') ?? '50000,100000,200000,300000,400000,600000').split(',').map(Number);
  const secs = arg('eventrate-secs', 10);
  // pinned to one CPU unless --eventrate-unpinned: the reporting thread then may run on the other
  const cpu = process.argv.includes('--eventrate-unpinned') ? null : pinCpu();
  const hz = clockTicks();
  const dir = join(c.work, 'eventrate');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'target-file');
  writeFileSync(file, 'x\n');
  const s = scoped(c, 'eventrate', 'all_events', {
    SCOPE_EVENT_FS: 'true',
    SCOPE_EVENT_FS_NAME: '.*',
    SCOPE_EVENT_NET: 'false',
    SCOPE_EVENT_HTTP: 'false',
    SCOPE_EVENT_DNS: 'false',
    SCOPE_EVENT_CONSOLE: 'false',
    SCOPE_EVENT_MAXEPS: '0',
  });
  process.stdout.write(
    `eventrate: open+close of one file, fs events, SCOPE_EVENT_MAXEPS=0, file destination, ${secs} s per target, ` +
      `${cpu === null ? 'not pinned' : `pinned to CPU ${cpu} (the reporting thread shares it)`}\n` +
      `  ${'target/s'.padStart(9)} ${'achieved/s'.padStart(11)} ${'calls'.padStart(10)} ${'written'.padStart(10)} ${'lost'.padStart(8)} ${'dropped'.padStart(8)}  threads' CPU\n`,
  );
  const steps: Step[] = [];
  let saturation: { target_events_per_s: number; why: string; thread_cpu: Record<string, number> } | null = null;
  for (const target of targets) {
    clearRecords(s);
    const cmd = cpu === null ? [prog] : ['taskset', '-c', cpu, prog];
    const samples: Map<number, { comm: string; ticks: number }>[] = [];
    let pid = 0;
    const timers: NodeJS.Timeout[] = [];
    const r = await runAsync(cmd[0] as string, [...cmd.slice(1), String(target), String(secs), file], {
      env: s.env,
      timeoutMs: secs * 1000 + 60_000,
      onSpawn: (ch) => {
        pid = ch.pid as number;
        const sample = () => {
          try {
            samples.push(threadTicks(ch.pid as number));
          } catch {
            /* it ended */
          }
        };
        timers.push(setTimeout(sample, Math.min(1000, (secs * 1000) / 4)), setTimeout(sample, secs * 1000 - Math.min(300, (secs * 1000) / 10)));
      },
    });
    timers.forEach(clearTimeout);
    if (r.status !== 0) throw new Error(`eventrate ${target} exited ${r.status} ${r.signal ?? ''}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as EventrateOut;
    const rec = await recorded(s, ['fs.open', 'fs.close'], `"${file}"`);
    const threadCpu: Record<string, number> = {};
    if (samples.length === 2) {
      const [a, b] = samples as [Map<number, { comm: string; ticks: number }>, Map<number, { comm: string; ticks: number }>];
      const window = secs - Math.min(1, secs / 4) - Math.min(0.3, secs / 10);
      for (const [tid, t] of b) {
        const before = a.get(tid)?.ticks ?? 0;
        // the program is single-threaded: its thread is the main one (tid = pid); any other is
        // libscope's (which keeps the program's comm: tid, not comm, tells them apart)
        const name = tid === pid ? 'app' : `libscope${t.comm === 'eventrate' ? '' : ` (${t.comm})`}`;
        threadCpu[name] = Number(((t.ticks - before) / hz / window).toFixed(2));
      }
    }
    const lost = out.calls - rec.sources;
    const zero = rec.drops === 0 && lost === 0;
    // the rate is what counts: a batch late because the reporting thread had the CPU for a while is
    // latency, made up by the next batches (late_batches says how often)
    const kept = out.calls_per_s >= 0.97 * target;
    const step: Step = {
      target_events_per_s: target,
      calls: out.calls,
      elapsed_s: out.elapsed_s,
      achieved_calls_per_s: Math.round(out.calls_per_s),
      events_written: rec.sources,
      events_lost: lost,
      drops_logged: rec.drops,
      zero_drops: zero,
      app_kept_pace: kept,
      late_batches: out.late_batches,
      thread_cpu: threadCpu,
    };
    steps.push(step);
    const cpus = Object.entries(threadCpu)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ');
    process.stdout.write(
      `  ${String(target).padStart(9)} ${String(Math.round(out.calls_per_s)).padStart(11)} ${String(out.calls).padStart(10)} ` +
        `${String(rec.sources).padStart(10)} ${String(lost).padStart(8)} ${String(rec.drops).padStart(8)}  ${cpus}` +
        `${kept ? '' : '  (the program did not keep the pace)'}\n`,
    );
    clearRecords(s);
    if (!zero) {
      saturation = { target_events_per_s: target, why: `${rec.drops} dropped, ${lost} of ${out.calls} not in the file`, thread_cpu: threadCpu };
      break;
    }
    if (!kept) {
      saturation = { target_events_per_s: target, why: `the program itself reached only ${Math.round(out.calls_per_s)} calls/s on its CPU`, thread_cpu: threadCpu };
      break;
    }
  }
  const clean = steps.filter((x) => x.zero_drops);
  // a target met (calls within 0.1 % of it: the pacing's last batch) counts as that target
  const met = (x: Step) => (x.achieved_calls_per_s >= 0.999 * x.target_events_per_s ? x.target_events_per_s : x.achieved_calls_per_s);
  const best = clean.length ? Math.max(...clean.map(met)) : 0;
  c.latest['eventrate'] = {
    seconds: secs,
    pinned_cpu: cpu,
    targets,
    steps,
    highest_zero_drop_events_per_s: best,
    saturates: saturation,
    budget_events_per_s: 300_000,
  };
  process.stdout.write(
    `  highest rate with zero drops: ${best} events/s; ` +
      (saturation ? `saturates at the ${saturation.target_events_per_s}/s target: ${saturation.why}\n` : `no target dropped (the highest target: ${targets[targets.length - 1]}/s)\n`),
  );
  c.budgets.push({
    what: `events written with zero drops, one process (fs, MAXEPS=0, file; ${secs} s)`,
    measured: `${best.toLocaleString('en')} events/s${saturation ? ` (saturates at ${saturation.target_events_per_s.toLocaleString('en')})` : ''}`,
    budget: '≥ 300 000',
    within: best >= 300_000,
    value: best,
  });
}
