/**
 * A small stream with one record for each thing a filter kind can tell apart: five processes (a
 * tree under sh 100, a process in a container, one on another host, one whose name is longer than
 * 15 characters), their events, a metric, and an event of a pid with no process-start record. Each
 * record carries a tag (body.tag; a start record is start-<procname>) so a test names what passed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFilter } from '../src/filter.js';
import { parseFilters } from '../src/parse.js';
import type { Scopes } from '../src/parse.js';
import { tempDir } from '@scope/core/testing';

export const CONTAINER = 'abc1230000000000000000000000000000000000000000000000000000000def';
const MNT = 4026531841;
const PIDNS = 4026531836;

interface P {
  pid: number;
  ppid: number;
  procname: string;
  exe: string;
  uid: number;
  gid: number;
  host: string;
  containerid: string;
  mntns: number;
}

const procs: P[] = [
  { pid: 100, ppid: 1, procname: 'sh', exe: '/usr/bin/dash', uid: 0, gid: 0, host: 'vm', containerid: '', mntns: MNT },
  { pid: 101, ppid: 100, procname: 'ls', exe: '/usr/bin/ls', uid: 1000, gid: 1000, host: 'vm', containerid: '', mntns: MNT },
  { pid: 102, ppid: 100, procname: 'curl', exe: '/usr/bin/curl', uid: 33, gid: 33, host: 'vm', containerid: CONTAINER, mntns: 4026532000 },
  { pid: 103, ppid: 1, procname: 'nginx', exe: '/usr/sbin/nginx', uid: 0, gid: 0, host: 'web1', containerid: '', mntns: MNT },
  { pid: 104, ppid: 101, procname: 'a-very-long-process-name', exe: '/opt/a-very-long-process-name', uid: 1000, gid: 1000, host: 'vm', containerid: '', mntns: MNT },
];

function start(p: P): object {
  return {
    format: 'ndjson',
    info: {
      process: {
        libscopever: '0.1.0',
        pid: p.pid,
        ppid: p.ppid,
        uid: p.uid,
        gid: p.gid,
        username: 'u',
        groupname: 'g',
        hostname: p.host,
        procname: p.procname,
        cmd: p.procname,
        id: `${p.host}-${p.procname}-${p.procname}`,
        exe: p.exe,
        cgroup: p.containerid ? `0::/docker/${p.containerid}` : '0::/',
        containerid: p.containerid,
        mntns: p.mntns,
        pidns: PIDNS,
      },
      configuration: { current: {} },
      environment: {},
    },
  };
}

let time = 1796000000;
function evt(tag: string, pid: number, source: string, sourcetype: string, data: object, opts: { uid?: boolean } = {}): object {
  const p = procs.find((x) => x.pid === pid);
  const body: Record<string, unknown> = {
    sourcetype,
    _time: (time += 0.001),
    source,
    host: p?.host ?? 'vm',
    proc: p?.procname ?? 'ghost',
    cmd: p?.procname ?? 'ghost',
    pid,
  };
  if (opts.uid !== false && p) {
    body['uid'] = p.uid;
    body['gid'] = p.gid;
  }
  body['tag'] = tag;
  body['data'] = data;
  return { type: 'evt', id: `${p?.host ?? 'vm'}-${p?.procname ?? 'ghost'}-${p?.procname ?? 'ghost'}`, _channel: '0', body };
}

export const RECORDS: object[] = [
  ...procs.map(start),
  evt('sh-open', 100, 'fs.open', 'fs', { file: '/etc/profile', op: 'open', fd: 3 }),
  evt('ls-open', 101, 'fs.open', 'fs', { file: '/etc/passwd', op: 'openat', fd: 3 }),
  evt('ls-close', 101, 'fs.close', 'fs', { file: '/etc/passwd', op: 'close', fd: 3, file_read_bytes: 1200 }),
  evt('ls-error', 101, 'fs.error', 'fs', { op: 'openat', file: '/nope', errno: 2, errno_name: 'ENOENT', message: 'No such file or directory', class: 'open_close' }),
  evt('ls-stdout', 101, 'stdout', 'console', { message: 'a b c' }),
  evt('curl-open', 102, 'fs.open', 'fs', { file: '/tmp/x', op: 'open', fd: 5 }),
  evt('curl-dns1', 102, 'dns.req', 'dns', { domain: 'api.example.com' }),
  evt('curl-dns2', 102, 'dns.req', 'dns', { domain: 'example.org' }),
  evt('curl-net443', 102, 'net.open', 'net', { net_transport: 'IP.TCP', net_peer_ip: '10.0.0.1', net_peer_port: 443, net_host_ip: '10.0.0.2', net_host_port: 50000, fd: 6, op: 'connect' }),
  evt('curl-net80', 102, 'net.open', 'net', { net_transport: 'IP.TCP', net_peer_ip: '10.0.0.1', net_peer_port: 80, net_host_ip: '10.0.0.2', net_host_port: 50001, fd: 7, op: 'connect' }),
  evt('nginx-503', 103, 'http.resp', 'http', { http_method: 'GET', http_target: '/a', http_status_code: 503 }),
  evt('nginx-404', 103, 'http.resp', 'http', { http_method: 'GET', http_target: '/b', http_status_code: 404 }),
  evt('nginx-200', 103, 'http.resp', 'http', { http_method: 'GET', http_target: '/c', http_status_code: 200 }),
  evt('nginx-req', 103, 'http.req', 'http', { http_method: 'GET', http_target: '/a' }),
  evt('nginx-log', 103, '/var/log/nginx/access.log', 'file', { message: 'GET /a' }),
  evt('long-open', 104, 'fs.open', 'fs', { file: '/etc/hosts', op: 'open', fd: 3 }, { uid: false }),
  evt('notice', 101, 'notice', 'metric', { message: 'dropped 3' }),
  evt('ghost-open', 999, 'fs.open', 'fs', { file: '/etc/ghost', op: 'open', fd: 3 }),
  { type: 'metric', body: { _metric: 'proc.cpu', _metric_type: 'counter', _value: 10, proc: 'ls', pid: 101, host: 'vm', unit: 'microsecond', _time: 1796000000 } },
];

export const LINES: string[] = RECORDS.map((r) => JSON.stringify(r));

/**
 * The same records with body.data first: not libscope's layout, so every line is parsed whole
 * instead of read by fastline.ts; both ways must give the same answers.
 */
export const LINES_PARSED: string[] = RECORDS.map((r) => {
  const rec = r as { body?: Record<string, unknown> };
  if (!rec.body || !('data' in rec.body)) return JSON.stringify(r);
  const { data, ...rest } = rec.body;
  return JSON.stringify({ ...rec, body: { data, ...rest } });
});

/** The fixture as a file, for the tool itself. */
export function fixtureFile(): string {
  const dir = tempDir('scope-filter-test-');
  const file = join(dir, 'events.json');
  writeFileSync(file, LINES.join('\n') + '\n');
  return file;
}

/** The tag of a written record, with its matchedScopes, or `tag:pass` when it passed unchanged. */
export function tagOf(line: string): string {
  const rec = JSON.parse(line) as Record<string, any>;
  const procname = rec['info']?.['process']?.['procname'];
  const tag = rec['body']?.['tag'] ?? (procname === undefined ? undefined : `start-${procname}`) ?? rec['body']?.['_metric'];
  const scopes = rec['body']?.['matchedScopes'] ?? rec['matchedScopes'];
  return `${tag}:${scopes ?? 'pass'}`;
}

/** Run the filters over the fixture in-process; the tags written, in order. */
export async function filtered(flags: string[] | Scopes, lines: string[] = LINES): Promise<string[]> {
  const scopes = Array.isArray(flags) ? parseFilters(flags) : flags;
  const out: string[] = [];
  await runFilter(
    (async function* () {
      yield lines;
    })(),
    scopes,
    {
      tool: 'scope-filter',
      where: 'stdin',
      format: 'json',
      strict: false,
      live: false,
      hostname: 'vm',
      warn: (m) => {
        throw new Error(`unexpected warning: ${m}`);
      },
      write: async (text) => {
        out.push(...text.split('\n'));
      },
    },
  );
  return out.map(tagOf);
}

/** Only the event tags (start records and metrics that passed unchanged are left out). */
export async function events(flags: string[] | Scopes, lines: string[] = LINES): Promise<string[]> {
  return (await filtered(flags, lines)).filter((t) => !t.startsWith('start-') && !t.startsWith('proc.'));
}
