/**
 * The reading side on NDJSON, against jq on the same query:
 *  - events: scope-events on 2 M generated events (fs, net, http, console) from a file, NDJSON out to
 *    /dev/null: --match TEXT and --sourcetype net, lines per second (budget ≥ 500 000) and against
 *    `jq -c 'select(…)'` on the same query (budget ≥ 3×); both are checked to select the same lines.
 *  - filter: scope-filter on the same 2 M events with 1 scope (every line kept and marked; against
 *    jq doing the same) and with 64 scopes of data, range and process filters (budget ≥ 500 000
 *    lines/s); the lines kept are checked to carry matchedScopes.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Ctx } from './common.js';
import { arg, median } from './common.js';

// ---- 5. scope-events on NDJSON: lines per second, and against jq on the same query -----------------
/** One line of a realistic session: fs, net, http and console events of an nginx worker. */
function benchEventLine(i: number): string {
  const k = i % 10;
  const t = (1763890000 + i * 0.00001).toFixed(6);
  const cmd = 'nginx: worker process';
  const ev = (st: string, src: string, ch: string, data: unknown) =>
    `{"type":"evt","id":"bench-nginx-${cmd}","_channel":"${ch}","body":{"sourcetype":"${st}","_time":${t},"source":"${src}","host":"bench","proc":"nginx","cmd":"${cmd}","pid":4300,"data":${JSON.stringify(data)}}}`;
  if (k < 4)
    return ev('fs', k % 2 ? 'fs.close' : 'fs.open', String(430000000000 + (i % 97)), {
      file: `/var/www/html/page${i % 500}.html`,
      op: 'openat',
      fd: 10 + (i % 50),
      proc_uid: 33,
      proc_gid: 33,
      file_perms: 420,
      file_owner: 0,
      file_group: 0,
    });
  if (k < 7)
    return ev('net', k === 6 ? 'net.close' : 'net.open', String(430000000000 + (i % 89)), {
      net_transport: 'IP.TCP',
      net_peer_ip: `10.0.${i % 250}.${i % 200}`,
      net_peer_port: 40000 + (i % 20000),
      net_host_ip: '10.0.0.1',
      net_host_port: 80,
      fd: 9,
      op: 'accept4',
      duration: i % 300,
      net_bytes_sent: i % 5000,
      net_bytes_recv: i % 7000,
      net_close_reason: 'remote',
    });
  if (k < 9)
    return ev('http', k === 8 ? 'http.resp' : 'http.req', '430000000009', {
      http_method: 'GET',
      http_target: `/api/items/${i % 1000}`,
      http_flavor: '1.1',
      http_scheme: 'http',
      http_host: 'example.org',
      http_status_code: 200,
      http_status_text: 'OK',
      http_server_duration: (i % 100) / 7,
    });
  return ev('console', 'stderr', '0', { message: `worker ${i % 8}: request ${i} served in ${((i % 100) / 7).toFixed(3)}ms\n` });
}

/** `lines` generated events in a file, and its first 100 000 lines in another. */
function writeEventsFile(work: string, lines: number): { file: string; small: string } {
  const file = join(work, 'events.ndjson');
  const small = join(work, 'events-small.ndjson');
  const fd = openSync(file, 'w');
  for (let i = 0; i < lines; ) {
    let chunk = '';
    for (let j = 0; j < 2000 && i < lines; j++) chunk += benchEventLine(i++) + '\n';
    writeSync(fd, chunk);
    if (i === Math.min(lines, 100_000)) writeFileSync(small, readFileSync(file));
  }
  closeSync(fd);
  return { file, small };
}

/** Seconds for one run with stdin from `input` and stdout to `out`. */
function timed(cmd: string, argv: string[], input: string, out: string): number {
  const plainEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  const inFd = openSync(input, 'r');
  const outFd = openSync(out, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: [inFd, outFd, 'inherit'], env: { ...plainEnv, TZ: 'UTC' } });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(inFd);
  closeSync(outFd);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}`);
  return secs;
}

const lineCount = (f: string) => readFileSync(f, 'utf8').split('\n').length - 1;

export function scopeEvents(c: Ctx): void {
  const { work, benchDir, budgets, latest } = c;
  const lines = arg('events-lines', 2_000_000);
  const eventsRuns = arg('events-runs', 3);
  const { file, small } = writeEventsFile(work, lines);
  const eventsBin = join(benchDir, '../tools/scope-events/bin/scope-events.js');
  const jq = '/usr/bin/jq';
  const queries = [
    { name: '--match', args: ['--match', 'page42.html'], jq: 'select(tojson | contains("page42.html"))' },
    { name: '--sourcetype net', args: ['--sourcetype', 'net'], jq: 'select(.body.sourcetype == "net")' },
  ];
  const haveJq = existsSync(jq);
  const eventsResults: Record<string, unknown> = { lines, bytes: statSync(file).size };
  for (const q of queries) {
    // Same selection as jq on the first 100 000 lines.
    const ours = join(work, 'ours.ndjson');
    const theirs = join(work, 'theirs.ndjson');
    timed(process.execPath, [eventsBin, '--json', ...q.args], small, ours);
    const count = lineCount;
    if (haveJq) {
      timed(jq, ['-c', q.jq], small, theirs);
      if (count(ours) !== count(theirs)) throw new Error(`scope-events ${q.name}: ${count(ours)} lines, jq: ${count(theirs)}`);
    }
    const ourSecs = median(Array.from({ length: eventsRuns }, () => timed(process.execPath, [eventsBin, '--json', ...q.args], file, '/dev/null')));
    const rate = lines / ourSecs;
    const entry: Record<string, unknown> = { scope_events_s: Number(ourSecs.toFixed(3)), lines_per_s: Math.round(rate), selected_of_100k: count(ours) };
    budgets.push({ what: `scope-events ${q.name}, lines/s`, measured: `${Math.round(rate).toLocaleString('en')} lines/s`, budget: '≥ 500 000', within: rate >= 500_000, value: rate });
    let line = `scope-events ${q.name}: ${ourSecs.toFixed(2)} s for ${lines} lines, ${Math.round(rate)} lines/s`;
    if (haveJq) {
      const jqSecs = timed(jq, ['-c', q.jq], file, '/dev/null');
      const ratio = jqSecs / ourSecs;
      entry['jq_s'] = Number(jqSecs.toFixed(3));
      entry['ratio_vs_jq'] = Number(ratio.toFixed(2));
      budgets.push({ what: `scope-events ${q.name}, speed ÷ jq`, measured: `${ratio.toFixed(2)}× (jq ${Math.round(lines / jqSecs)} lines/s)`, budget: '≥ 3×', within: ratio >= 3, value: ratio });
      line += `; jq -c '${q.jq}': ${jqSecs.toFixed(2)} s, ${ratio.toFixed(2)}× slower`;
    }
    eventsResults[q.name] = entry;
    process.stdout.write(line + '\n');
  }
  if (!haveJq) process.stdout.write('events: jq comparison skipped (no /usr/bin/jq)\n');
  latest['events'] = eventsResults;
  rmSync(file, { force: true });
}

// ---- 6. scope-filter on NDJSON: lines per second with 1 scope and with 64 ------------------------
/**
 * 64 scopes of four kinds, sixteen each: fs.open of nginx under one page prefix (a data filter),
 * http.resp for one target prefix (a data filter), net.* with peer ports above a bound (a range on
 * net.open), and the console events of pid 4300 (no event selector: every line must be looked at).
 */
function filter64(): string[] {
  const f: string[] = [];
  for (let i = 1; i <= 64; i++) {
    const add = (...xs: string[]) => xs.forEach((x) => f.push('-f', `${i}:${x}`));
    if (i % 4 === 0) add('comm=nginx', 'event=fs.open', `fs.open.data.file=/var/www/html/page${i}*`);
    else if (i % 4 === 1) add('event=http.resp', `http.resp.data.http_target=/api/items/${i}*`);
    else if (i % 4 === 2) add('event=net.*', `net.open.data.net_peer_port>${40000 + i * 100}`);
    else add('pid=4300', 'sourcetype=console');
  }
  return f;
}

export function scopeFilter(ctx: Ctx): void {
  const { work, benchDir, budgets, latest } = ctx;
  const lines = arg('filter-lines', 2_000_000);
  const filterRuns = arg('filter-runs', 3);
  const { file, small } = writeEventsFile(work, lines);
  const filterBin = join(benchDir, '../tools/scope-filter/bin/scope-filter.js');
  const jq = '/usr/bin/jq';
  const haveJq = existsSync(jq);
  const out = join(work, 'filtered.ndjson');
  const cases = [
    {
      name: '1 scope (comm=nginx: every line kept, matchedScopes added)',
      key: 'scopes_1',
      args: ['-f', 'comm=nginx'],
      jq: 'if .type == "evt" then (if .body.proc == "nginx" then (.body.matchedScopes = "1" | .body.matchedPolicies = ["1"]) else empty end) else . end',
      budget: false,
    },
    { name: '64 scopes', key: 'scopes_64', args: filter64(), jq: undefined, budget: true },
  ];
  const filterResults: Record<string, unknown> = { lines, bytes: statSync(file).size };
  for (const c of cases) {
    timed(process.execPath, [filterBin, '--json', ...c.args], small, out);
    const kept = lineCount(out);
    const withScopes = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"matchedScopes":"')).length;
    if (kept === 0 || withScopes !== kept) throw new Error(`scope-filter ${c.name}: ${kept} lines kept, ${withScopes} with matchedScopes`);
    const secs = median(Array.from({ length: filterRuns }, () => timed(process.execPath, [filterBin, '--json', ...c.args], file, '/dev/null')));
    const rate = lines / secs;
    const entry: Record<string, unknown> = { seconds: Number(secs.toFixed(3)), lines_per_s: Math.round(rate), kept_of_100k: kept };
    let line = `scope-filter ${c.name}: ${secs.toFixed(2)} s for ${lines} lines, ${Math.round(rate)} lines/s, kept ${kept} of the first 100 000`;
    if (c.budget) budgets.push({ what: `scope-filter, ${c.name}, lines/s`, measured: `${Math.round(rate).toLocaleString('en')} lines/s`, budget: '≥ 500 000', within: rate >= 500_000, value: rate });
    else
      budgets.push({
        what: `scope-filter, ${c.name.split(' (')[0]}, lines/s`,
        measured: `${Math.round(rate).toLocaleString('en')} lines/s`,
        budget: '≥ 500 000',
        within: rate >= 500_000,
        value: rate,
      });
    if (haveJq && c.jq !== undefined) {
      const theirs = join(work, 'theirs.ndjson');
      timed(jq, ['-c', c.jq], small, theirs);
      if (lineCount(theirs) !== kept) throw new Error(`scope-filter ${c.name}: ${kept} lines, jq: ${lineCount(theirs)}`);
      const jqSecs = timed(jq, ['-c', c.jq], file, '/dev/null');
      const ratio = jqSecs / secs;
      entry['jq_s'] = Number(jqSecs.toFixed(3));
      entry['ratio_vs_jq'] = Number(ratio.toFixed(2));
      budgets.push({ what: 'scope-filter, 1 scope, speed ÷ jq', measured: `${ratio.toFixed(2)}× (jq ${Math.round(lines / jqSecs)} lines/s)`, budget: '≥ 3×', within: ratio >= 3, value: ratio });
      line += `; jq: ${jqSecs.toFixed(2)} s, ${ratio.toFixed(2)}× slower`;
    }
    filterResults[c.key] = entry;
    process.stdout.write(line + '\n');
  }
  if (!haveJq) process.stdout.write('filter: jq comparison skipped (no /usr/bin/jq)\n');
  latest['filter'] = filterResults;
  rmSync(file, { force: true });
}
