/**
 * `scope profile --deps`: each process's inputs (files it read) and outputs (files it wrote, or
 * made by renaming), so a build can check that it declared everything a command used. Paths are
 * as the process saw them (absolute), devices, /proc, /sys, pipes and sockets left out.
 *
 * JSON: {"type":"deps","processes":[{"pid","ppid","cmd","exe","inputs":[…],"outputs":[…],"deleted":[…]}]}
 * Make: one rule per process that wrote something, "outputs: inputs", after a comment naming it.
 */
import type { Collected } from './collect.js';
import { isPseudoFile } from './profile.js';

export interface DepsProcess {
  pid: number;
  ppid: number | null;
  cmd: string;
  exe: string | null;
  inputs: string[];
  outputs: string[];
  deleted: string[];
}

export interface Deps {
  type: 'deps';
  processes: DepsProcess[];
}

const real = (xs: Set<string>): string[] => [...xs].filter((f) => !isPseudoFile(f)).sort();

export function buildDeps(c: Collected): Deps {
  const processes = [...c.processes.values()]
    .sort((a, b) => (a.first ?? Infinity) - (b.first ?? Infinity) || a.pid - b.pid)
    .map((p) => {
      const outputs = real(p.writes);
      const out = new Set(outputs);
      // A file a command wrote and then read back is its output, not an input it was given.
      const inputs = real(p.reads).filter((f) => !out.has(f));
      return { pid: p.pid, ppid: p.ppid, cmd: p.cmd, exe: p.exe, inputs, outputs, deleted: real(p.deletes) };
    });
  return { type: 'deps', processes };
}

/** A path as make reads it in a rule: spaces, '#', ':' and '\' escaped, '$' doubled. */
export function makeEscape(path: string): string {
  return path.replace(/([\\ #:])/g, '\\$1').replace(/\$/g, '$$$$');
}

/** Make cannot name a file with a line break or another control character in it. */
const makeable = (path: string): boolean => !/[\x00-\x1f\x7f]/.test(path);

export function depsMake(d: Deps): string {
  const out: string[] = [];
  for (const p of d.processes) {
    const outputs = p.outputs.filter(makeable);
    const inputs = p.inputs.filter(makeable);
    const left = p.outputs.length - outputs.length + p.inputs.length - inputs.length;
    if (p.outputs.length === 0) continue;
    // A command line may hold a newline; a comment is one line.
    out.push(`# ${p.pid}: ${p.cmd.replace(/[\x00-\x1f\x7f]+/g, ' ')}`);
    if (left > 0) out.push(`# ${left} path${left === 1 ? '' : 's'} with a control character left out (see --deps without --make)`);
    if (outputs.length > 0) out.push(`${outputs.map(makeEscape).join(' ')}:${inputs.map((f) => ' ' + makeEscape(f)).join('')}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}
