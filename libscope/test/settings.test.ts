// The settings that shape libscope's output: event watch filters, log-file events, the event rate
// limit, metric verbosity and the metric family switches. Each runs a real program under the library.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { evts, isMetric, isStart, readNdjsonAll, run, session } from './lib.js';
import type { Metric } from './lib.js';

const sh = (script: string, env: NodeJS.ProcessEnv) => run('sh', ['-c', script], env);
const metricsOf = (rs: unknown[]): Metric[] => rs.filter(isMetric);

test('SCOPE_EVENT_FS_NAME keeps only the fs events whose source matches', () => {
  const s = session({ SCOPE_EVENT_FS_NAME: '^fs\\.close$' });
  assert.is(sh('cat /etc/hostname >/dev/null', s.env).status, 0);
  const events = s.events();
  assert.ok(evts(events, 'fs.close').length > 0, 'fs.close kept');
  assert.is(evts(events, 'fs.open').length, 0, 'fs.open filtered out');
  rmSync(s.dir, { recursive: true });
});

test('SCOPE_EVENT_FS_FIELD keeps only matching fields; SCOPE_EVENT_CONSOLE_VALUE filters by value', () => {
  const s = session({ SCOPE_EVENT_FS_FIELD: '^(file|op)$', SCOPE_EVENT_CONSOLE_VALUE: 'keep\\d' });
  assert.is(sh('cat /etc/hostname >/dev/null; echo drop-me; echo keep7', s.env).status, 0);
  // fields the user filtered out are missing on purpose: those fs (and proc.exit) records no longer meet their
  // schema, and nothing else may fail it
  const { records: events, failures } = readNdjsonAll(join(s.dir, 'events.json'));
  assert.ok(failures.length > 0 && failures.every((f) => /: (fs\.(open|close|error)|proc\.exit): .*required property/.test(f)), failures.join('\n'));
  const open = evts(events, 'fs.open')[0];
  assert.ok(open, 'an fs.open');
  assert.equal(Object.keys(open.body.data).sort(), ['file', 'op']);
  const out = evts(events, 'stdout').map((e) => String(e.body.data.message));
  assert.equal(out, ['keep7\n']);
  rmSync(s.dir, { recursive: true });
});

test('writes to a log file become file events named by its path; other files do not', () => {
  const s = session();
  const log = join(s.dir, 'app.log');
  const other = join(s.dir, 'data.txt');
  assert.is(sh(`echo first > ${log}; echo second >> ${log}; echo nope > ${other}`, s.env).status, 0);
  const file = evts(s.events()).filter((e) => e.body.sourcetype === 'file');
  assert.equal(
    file.map((e) => [e.body.source, e.body.data.message]),
    [
      [log, 'first\n'],
      [log, 'second\n'],
    ],
  );
  rmSync(s.dir, { recursive: true });
});

test('SCOPE_EVENT_LOGFILE_NAME with a custom pattern decides which files are logs', () => {
  const s = session({ SCOPE_EVENT_LOGFILE_NAME: 'journal\\d+$' });
  const a = join(s.dir, 'journal42');
  const b = join(s.dir, 'app.log');
  assert.is(sh(`echo in-journal > ${a}; echo in-log > ${b}`, s.env).status, 0);
  const file = evts(s.events()).filter((e) => e.body.sourcetype === 'file');
  assert.equal(
    file.map((e) => e.body.source),
    [a],
  );
  rmSync(s.dir, { recursive: true });
});

test('SCOPE_EVENT_MAXEPS: events over the limit are dropped with a notice that counts them', () => {
  const s = session({ SCOPE_EVENT_MAXEPS: '50' });
  // 300 one-line writes from one process, most within a second; the limit counts by the second of
  // each event's own time, so however slow the machine, no second holds more than 50 events
  assert.is(sh('i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done', s.env).status, 0);
  const events = s.events();
  const all = evts(events).filter((e) => e.body.sourcetype !== 'notice' && e.body.source !== 'notice');
  const perSecond = new Map<string, number>();
  for (const e of all) {
    const sec = `${e.body.pid}@${Math.floor(Number(e.body._time))}`;
    perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
  }
  for (const [sec, n] of perSecond) assert.ok(n <= 50, `at most 50 events of a process in a second: ${sec} has ${n}`);
  const out = evts(events, 'stdout');
  assert.ok(out.length >= 50 && out.length < 300, `some console events written, some dropped (${out.length})`);
  const notice = evts(events, 'notice').map((e) => String(e.body.data.message));
  const counted = notice.map((n) => /dropped (\d+) records over the event rate limit of 50/.exec(n)).filter(Boolean);
  assert.ok(counted.length > 0, `a rate-limit notice: ${notice.join(' | ')}`);
  const dropped = counted.reduce((n, m) => n + Number(m![1]), 0);
  assert.is(dropped + all.length, 300 + evts(events).filter((e) => e.body.sourcetype === 'fs').length, 'every event is either written or counted');
  rmSync(s.dir, { recursive: true });
});

test('verbosity 0 writes bare metrics (not even summary: plain StatsD servers take no tags); 1 adds unit and summary; 9 writes each read with its file and descriptor', () => {
  const v0 = session({ SCOPE_METRIC_VERBOSITY: '0' });
  assert.is(run('cat', ['/etc/hostname'], v0.env).status, 0);
  const read0 = metricsOf(v0.metrics()).find((m) => m.body._metric === 'fs.read');
  assert.ok(read0, 'fs.read summary');
  for (const k of ['proc', 'pid', 'host', 'unit', 'op', 'file', 'fd', 'summary']) assert.is(read0.body[k], undefined, k);

  const v1 = session({ SCOPE_METRIC_VERBOSITY: '1' });
  assert.is(run('cat', ['/etc/hostname'], v1.env).status, 0);
  const read1 = metricsOf(v1.metrics()).find((m) => m.body._metric === 'fs.read');
  assert.is(read1?.body.summary, 'true');
  assert.is(read1?.body.unit, 'byte');
  rmSync(v1.dir, { recursive: true });

  const v9 = session({ SCOPE_METRIC_VERBOSITY: '9' });
  assert.is(run('cat', ['/etc/hostname'], v9.env).status, 0);
  const reads = metricsOf(v9.metrics()).filter((m) => m.body._metric === 'fs.read' && m.body.file === '/etc/hostname');
  assert.ok(reads.length >= 1, 'per-call fs.read for /etc/hostname');
  for (const r of reads) {
    assert.is(r.body.summary, undefined);
    assert.is(typeof r.body.fd, 'number');
    assert.is(r.body.numops, 1);
  }
  const opens = metricsOf(v9.metrics()).filter((m) => m.body._metric === 'fs.open' && m.body.file === '/etc/hostname');
  assert.is(opens.length, 1, 'per-call fs.open at 9');
  rmSync(v0.dir, { recursive: true });
  rmSync(v9.dir, { recursive: true });
});

test('SCOPE_METRIC_FS=false and SCOPE_METRIC_PROC=false switch their families off', () => {
  const s = session({ SCOPE_METRIC_FS: 'false' });
  assert.is(run('cat', ['/etc/hostname'], s.env).status, 0);
  const names = new Set(metricsOf(s.metrics()).map((m) => m.body._metric));
  assert.ok(names.has('proc.cpu'));
  assert.ok(![...names].some((n) => n.startsWith('fs.')), [...names].join(','));
  const p = session({ SCOPE_METRIC_PROC: 'false' });
  assert.is(run('cat', ['/etc/hostname'], p.env).status, 0);
  const pnames = new Set(metricsOf(p.metrics()).map((m) => m.body._metric));
  assert.ok(pnames.has('fs.read'));
  assert.ok(![...pnames].some((n) => n.startsWith('proc.')), [...pnames].join(','));
  rmSync(s.dir, { recursive: true });
  rmSync(p.dir, { recursive: true });
});

test('proc.child counts the children alive at each report', () => {
  const s = session({ SCOPE_SUMMARY_PERIOD: '1' });
  assert.is(sh('sleep 2 & sleep 2 & sleep 1.5; wait', s.env).status, 0);
  const starts = s.events().filter(isStart);
  // the shell itself: its forked children also start as "sh" (before their exec), and may write first
  const shPid = starts.find((x) => x.info.process.procname === 'sh' && x.info.process.ppid === process.pid)?.info.process.pid;
  const child = metricsOf(s.metrics()).filter((m) => m.body._metric === 'proc.child' && m.body.pid === shPid);
  assert.ok(
    child.some((m) => m.body._value === 3),
    `three children while they sleep (${child.map((m) => m.body._value).join(',')})`,
  );
  assert.is(child.at(-1)?.body._value, 0, 'none left at exit');
  rmSync(s.dir, { recursive: true });
});

test.run();
