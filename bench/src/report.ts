/**
 * scope report, profile and the HTML page on a large session: 1 M generated events (the mix a busy
 * job makes: 2 000 processes' start records, opens and closes over 20 000 files with their bytes,
 * failed opens, connections to 500 peers, HTTP requests and responses with every status class, DNS
 * lookups) and 100 000 metric summaries, read from stdin. Seconds per run, median of --report-runs.
 */
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Ctx } from './common.js';
import { arg, median } from './common.js';

function line(i: number): string {
  const pid = 10000 + (i % 2000);
  const t = (1763890000 + i * 0.00001).toFixed(6);
  const ev = (st: string, src: string, data: unknown) =>
    `{"type":"evt","id":"bench-job","_channel":"${pid}0000${i % 64}","body":{"sourcetype":"${st}","_time":${t},"source":"${src}","host":"bench","proc":"worker","cmd":"worker --job ${pid}","pid":${pid},"data":${JSON.stringify(data)}}}`;
  const k = i % 20;
  if (i < 2000) return `{"format":"ndjson","info":{"process":{"pid":${10000 + i},"ppid":${i === 0 ? 1 : 10000},"cmd":"worker --job ${10000 + i}","procname":"worker","exe":"/usr/bin/worker"}}}`;
  if (k < 6) return ev('fs', 'fs.open', { file: `/srv/data/dir${i % 200}/file${i % 20000}.dat`, op: 'openat', fd: 3 + (i % 50) });
  if (k < 12)
    return ev('fs', 'fs.close', {
      file: `/srv/data/dir${i % 200}/file${i % 20000}.dat`,
      op: 'close',
      fd: 3 + (i % 50),
      file_read_bytes: i % 9000,
      file_read_ops: i % 7,
      file_write_bytes: k === 11 ? i % 4000 : 0,
      file_write_ops: k === 11 ? 1 : 0,
      duration: i % 30,
    });
  if (k === 12) return ev('fs', 'fs.error', { op: 'open', file: `/etc/worker/conf${i % 30}.d`, errno: 2, errno_name: 'ENOENT', message: 'No such file or directory', class: 'open_close' });
  if (k < 15)
    return ev('net', k === 13 ? 'net.open' : 'net.close', {
      net_transport: 'IP.TCP',
      net_peer_ip: `10.1.${i % 5}.${i % 100}`,
      net_peer_port: 443,
      net_host_ip: '10.0.0.2',
      net_host_port: 30000 + (i % 30000),
      fd: 9,
      op: 'connect',
      duration: i % 300,
      net_bytes_sent: i % 5000,
      net_bytes_recv: i % 70000,
      net_close_reason: 'local',
    });
  if (k < 18) {
    const code = [200, 200, 200, 301, 404, 503][i % 6];
    return ev('http', k === 15 ? 'http.req' : 'http.resp', {
      http_method: i % 3 ? 'GET' : 'POST',
      http_target: `/api/v1/items/${i % 5000}?q=${i}`,
      http_flavor: '1.1',
      http_scheme: 'https',
      http_host: `svc${i % 20}.example.internal`,
      http_status_code: code,
      http_client_duration: (i % 1000) / 10,
      net_peer_ip: `10.1.${i % 5}.${i % 100}`,
      net_peer_port: 443,
    });
  }
  if (k === 18) return ev('dns', 'dns.req', { domain: `svc${i % 20}.example.internal`, op: 'getaddrinfo' });
  return ev('dns', 'dns.resp', { domain: `svc${i % 20}.example.internal`, op: 'getaddrinfo', duration: 0.4, addrs: [`10.1.${i % 5}.${i % 100}`] });
}

function metric(i: number): string {
  const pid = 10000 + (i % 2000);
  const ops = ['read', 'write', 'open', 'close', 'stat'];
  const op = ops[i % 5]!;
  const name = i % 4 === 0 ? 'fs.duration' : op === 'read' || op === 'write' ? `fs.${op}` : op === 'stat' ? 'fs.stat' : `fs.${op}`;
  const extra = name === 'fs.duration' ? `,"numops":${1 + (i % 9)},"max":${i % 900}` : name === 'fs.read' || name === 'fs.write' ? `,"numops":${1 + (i % 9)}` : '';
  if (i % 10 === 9)
    return `{"type":"metric","body":{"_metric":"proc.mem","_metric_type":"gauge","_value":${2000 + (i % 5000)},"proc":"worker","pid":${pid},"host":"bench","unit":"kibibyte","_time":${(1763890000 + i * 0.0001).toFixed(6)}}}`;
  return `{"type":"metric","body":{"_metric":"${name}","_metric_type":"${name === 'fs.duration' ? 'histogram' : 'counter'}","_value":${i % 5000},"proc":"worker","pid":${pid},"host":"bench","unit":"byte","op":"${op}"${extra},"summary":"true","_time":${(1763890000 + i * 0.0001).toFixed(6)}}}`;
}

export function writeSession(work: string, events: number, metrics: number): string {
  const file = join(work, 'session.ndjson');
  const fd = openSync(file, 'w');
  let chunk = '';
  for (let i = 0; i < events; i++) {
    chunk += line(i) + '\n';
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  for (let i = 0; i < metrics; i++) {
    chunk += metric(i) + '\n';
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  return file;
}

function timed(argv: string[], input: string): number {
  const inFd = openSync(input, 'r');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { stdio: [inFd, 'ignore', 'inherit'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(inFd);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return secs;
}

export function scopeReport(c: Ctx): void {
  const { work, benchDir, budgets, latest } = c;
  const events = arg('report-events', 1_000_000);
  const metrics = arg('report-metrics', 100_000);
  const runs = arg('report-runs', 3);
  const file = writeSession(work, events, metrics);
  const bin = (name: string) => join(benchDir, `../tools/scope-report/bin/${name}.js`);
  const html = join(work, 'report.html');
  const cases = [
    { key: 'report_json', what: 'scope report - --json', argv: [bin('scope-report'), '-', '--json'] },
    { key: 'report_text', what: 'scope report -', argv: [bin('scope-report'), '-'] },
    { key: 'report_html', what: 'scope report - --html', argv: [bin('scope-report'), '-', '--html', html] },
    { key: 'profile', what: 'scope profile -', argv: [bin('scope-profile'), '-'] },
  ];
  const out: Record<string, unknown> = { events, metrics, bytes: statSync(file).size };
  for (const k of cases) {
    const secs = median(Array.from({ length: runs }, () => timed(k.argv, file)));
    out[k.key] = { s: Number(secs.toFixed(3)), events_per_s: Math.round(events / secs) };
    budgets.push({ what: `${k.what}, ${events / 1e6} M events + ${metrics / 1e3} k metrics`, measured: `${secs.toFixed(2)} s`, budget: '≤ 10 s', within: secs <= 10, value: secs });
    process.stdout.write(`${k.what}: ${secs.toFixed(2)} s for ${events} events and ${metrics} metrics (${Math.round(events / secs)} events/s)\n`);
  }
  out['html_bytes'] = statSync(html).size;
  latest['report'] = out;
  rmSync(file, { force: true });
  rmSync(html, { force: true });
}
