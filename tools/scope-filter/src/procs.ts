/**
 * What the process kinds test, per pid: the process-start records seen (the latest image of a pid
 * wins), else, when reading live, /proc for a pid of this host.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { processInfo } from '@scope/core';
import type { JsonObject } from '@scope/core';

export interface ProcInfo {
  pid: number;
  ppid?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  procname?: string | undefined;
  host?: string | undefined;
  exe?: string | undefined;
  containerid?: string | undefined;
  mntns?: number | undefined;
  pidns?: number | undefined;
  /** Its process-start record was seen by this filter (`pid=new`). */
  isNew: boolean;
  /** The scopes whose process kinds the parent matched when this image started (for `follow`). */
  parentMask: bigint;
  /** The scopes whose process kinds this image matches (itself or followed), once evaluated. */
  mask?: bigint | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The ProcInfo a process-start record gives (parentMask is filled in by the table). */
export function infoOfStart(rec: JsonObject): ProcInfo | undefined {
  const info = rec['info'] as JsonObject | undefined;
  const p = info?.['process'] as JsonObject | undefined;
  if (!p || typeof p !== 'object') return undefined;
  const pid = num(p['pid']);
  if (pid === undefined) return undefined;
  return {
    pid,
    ppid: num(p['ppid']),
    uid: num(p['uid']),
    gid: num(p['gid']),
    procname: str(p['procname']),
    host: str(p['hostname']),
    exe: str(p['exe']),
    containerid: str(p['containerid']),
    mntns: num(p['mntns']),
    pidns: num(p['pidns']),
    isNew: true,
    parentMask: 0n,
  };
}

const CONTAINER_ID = /[0-9a-f]{64}/;

/** The namespace inode in a /proc/<pid>/ns link (`mnt:[4026531841]`). */
function nsInode(pid: number, ns: string): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** What /proc says of a live pid (undefined when it is gone). */
export function infoOfProc(pid: number): ProcInfo | undefined {
  const p = processInfo(pid);
  if (!p) return undefined;
  let containerid: string | undefined;
  try {
    containerid = CONTAINER_ID.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[0] ?? '';
  } catch {
    containerid = undefined;
  }
  return {
    pid,
    ppid: p.ppid,
    uid: p.uid,
    gid: p.gid,
    procname: p.comm,
    exe: p.exe ?? undefined,
    containerid,
    mntns: nsInode(pid, 'mnt'),
    pidns: nsInode(pid, 'pid'),
    isNew: false,
    parentMask: 0n,
  };
}

export class ProcessTable {
  private readonly byPid = new Map<number, ProcInfo>();
  /** Pids /proc was asked about (found or not), so each is read once. */
  private readonly asked = new Set<number>();
  /** Bumped whenever an entry changes, so caches keyed on entries can tell. */
  version = 0;

  constructor(
    private readonly live: boolean,
    private readonly hostname: string,
  ) {}

  /** Record a process-start record's image; the parent's mask at this moment is kept for follow. */
  start(info: ProcInfo): void {
    info.parentMask = info.ppid === undefined ? 0n : (this.byPid.get(info.ppid)?.mask ?? 0n);
    this.byPid.set(info.pid, info);
    this.version++;
  }

  /** The process behind a record of `pid` on `host`. */
  get(pid: number, host: string | undefined): ProcInfo | undefined {
    const known = this.byPid.get(pid);
    if (known) return known;
    if (!this.live || this.asked.has(pid) || (host !== undefined && host !== this.hostname)) return undefined;
    this.asked.add(pid);
    const info = infoOfProc(pid);
    if (info) {
      info.parentMask = info.ppid === undefined ? 0n : (this.byPid.get(info.ppid)?.mask ?? 0n);
      this.byPid.set(pid, info);
      this.version++;
    }
    return info;
  }

  /** The pid and its ancestors as far as known (bounded: a cycle or a long chain ends the walk). */
  lineage(pid: number, host: string | undefined): number[] {
    const out = [pid];
    let cur = this.get(pid, host);
    while (cur?.ppid !== undefined && cur.ppid > 0 && out.length < 512 && !out.includes(cur.ppid)) {
      out.push(cur.ppid);
      cur = this.get(cur.ppid, host);
    }
    return out;
  }
}
