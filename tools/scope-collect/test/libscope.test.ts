/**
 * The real library at the other end: libscope.so, under `scope run`, sends to scope-collect through
 * its network destinations (SCOPE_EVENT_DEST=tcp://…, SCOPE_METRIC_DEST=udp://… with StatsD lines).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { validateRecord } from '@scope/schemas';
import { bin, startCollect, umbrella, waitFor } from './helpers.js';
import { noForcedColour, tempDir } from '@scope/core/testing';

const eventsBin = fileURLToPath(new URL('../../../scope-events/bin/scope-events.js', import.meta.url));

type Rec = Record<string, any>;

/** `scope run --no-stream -- cmd…` in a fresh SCOPE_HOME with these SCOPE_* settings; its exit status. */
function scopeRun(cmd: string[], scopeEnv: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SCOPE_') && k !== 'LD_PRELOAD') env[k] = v;
  Object.assign(env, { SCOPE_HOME: tempDir('scope-collect-home-') }, scopeEnv);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [umbrella, 'run', '--no-stream', '--', ...cmd], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

const pidOf = (r: Rec): number | undefined => (r['format'] === 'ndjson' ? r['info']?.process?.pid : r['body']?.pid);

test("two scoped processes at once send to one collector: each one's process-start record first, then its events; StatsD metrics become valid metric records", async () => {
  const c = await startCollect(['--listen', 'tcp://127.0.0.1:0', '--listen', 'udp://127.0.0.1:0']);
  const [tcp, udp] = c.urls as [string, string];
  const settings = { SCOPE_EVENT_DEST: tcp, SCOPE_METRIC_DEST: udp, SCOPE_METRIC_FORMAT: 'statsd' };
  const runs = await Promise.all([scopeRun(['cat', '/etc/hostname'], settings), scopeRun(['head', '-c', '10', '/etc/passwd'], settings)]);
  for (const r of runs) assert.is(r.status, 0, r.stderr);
  const records = () => c.lines().map((l) => JSON.parse(l) as Rec);
  const procs = ['cat', 'head'];
  const has = (proc: string, what: (r: Rec) => boolean) => records().some((r) => what(r) && (r['body']?.proc === proc || r['info']?.process?.procname === proc));
  await waitFor(
    () => procs.every((p) => has(p, (r) => r['format'] === 'ndjson') && has(p, (r) => r['body']?.source === 'fs.open') && has(p, (r) => r['body']?._metric === 'proc.start')),
    `the records of both processes (so far: ${c.out()})`,
  );
  assert.is(await c.stop(), 0, c.err());
  assert.match(c.err(), /^scope-collect: \d+ records from \d+ connections, 0 bad lines$/m);

  const recs = records();
  for (const proc of procs) {
    const start = recs.find((r) => r['format'] === 'ndjson' && r['info'].process.procname === proc) as Rec;
    const pid = start['info'].process.pid as number;
    const mine = recs.filter((r) => pidOf(r) === pid && r['type'] !== 'metric');
    assert.is(mine[0], start, `${proc}: the process-start record comes first on its connection`);
    assert.ok(
      mine.some((r) => r['type'] === 'evt' && r['body'].source === 'fs.open'),
      `${proc}: its fs.open events`,
    );
    const metrics = recs.filter((r) => r['type'] === 'metric' && r['body'].pid === pid);
    assert.ok(
      metrics.some((m) => m['body']._metric === 'proc.start'),
      `${proc}: its proc.start metric`,
    );
  }
  for (const r of recs) {
    const v = validateRecord(r);
    assert.ok(v.ok, `valid record: ${JSON.stringify(r).slice(0, 200)} ${v.ok ? '' : v.errors.join('; ')}`);
  }
});

test("scope-collect | scope-events: a central view of both processes' events", async () => {
  // A real pipe between the two tools: scope-events reads scope-collect's stdout descriptor itself.
  const collect = spawn(process.execPath, [bin, '--listen', 'tcp://127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events = spawn(process.execPath, [eventsBin, '--pretty', '--sourcetype', 'fs'], { stdio: [collect.stdout, 'pipe', 'pipe'], env: noForcedColour() });
  let collectErr = '';
  let shown = '';
  let eventsErr = '';
  collect.stderr.on('data', (d: Buffer) => (collectErr += d.toString()));
  events.stdout!.on('data', (d: Buffer) => (shown += d.toString()));
  events.stderr!.on('data', (d: Buffer) => (eventsErr += d.toString()));
  const collectDone = new Promise<number | null>((resolve) => collect.on('exit', resolve));
  const eventsDone = new Promise<number | null>((resolve) => events.on('close', resolve));
  try {
    await waitFor(() => /listening on/.test(collectErr), 'scope-collect to listen');
    const url = /listening on (\S+)/.exec(collectErr)?.[1] as string;
    const runs = await Promise.all([scopeRun(['cat', '/etc/hostname'], { SCOPE_EVENT_DEST: url }), scopeRun(['head', '-c', '10', '/etc/passwd'], { SCOPE_EVENT_DEST: url })]);
    for (const r of runs) assert.is(r.status, 0, r.stderr);
    await waitFor(
      () => /\bcat\s+fs\s+fs\.open\s+file:\/etc\/hostname/.test(shown) && /\bhead\s+fs\s+fs\.open\s+file:\/etc\/passwd/.test(shown),
      `both processes' fs.open events in scope-events (so far: ${shown}${eventsErr})`,
    );
    collect.kill('SIGTERM');
    assert.is(await collectDone, 0, collectErr);
    assert.is(await eventsDone, 0, eventsErr);
  } finally {
    // a failure above must not leave them running (the suite would never end)
    collect.kill('SIGKILL');
    events.kill('SIGKILL');
  }
});

test.run();
