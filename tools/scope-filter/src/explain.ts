/**
 * `--explain`: each scope's filters in plain words, so a user can check what was understood, and
 * the SCOPE_FILTER text that hands the same scopes to libscope.
 */
import type { KindFilter, Scope, Scopes, ValueSet } from './parse.js';

function values(set: ValueSet, joiner: string): string {
  const words = set.written.map((v) =>
    v.length > 1 && v.startsWith('*') && v.endsWith('*')
      ? `anything containing "${v.slice(1, -1)}"`
      : v.length > 1 && v.endsWith('*')
        ? `anything starting with "${v.slice(0, -1)}"`
        : v.length > 1 && v.startsWith('*')
          ? `anything ending with "${v.slice(1)}"`
          : /^-?\d+(\.\d+)?$/.test(v)
            ? v
            : `"${v}"`,
  );
  return words.join(joiner);
}

/** One kind's sets and range in words: `is "a" or "b"`, `is not "c"`, `is above 5 and below 9`. */
export function describeKind(f: KindFilter): string {
  const parts: string[] = [];
  const eq = f.eq.size > 0 ? `is ${values(f.eq, ' or ')}` : '';
  const ne = f.ne.size > 0 ? `is not ${values(f.ne, ' nor ')}` : '';
  if (f.hasRange) {
    const bounds = [f.lo === undefined ? '' : `above ${f.lo}`, f.hi === undefined ? '' : `below ${f.hi}`].filter((s) => s !== '').join(' and ');
    parts.push(eq ? `${eq}, or is ${bounds}${ne ? ` and ${ne}` : ''}` : `is ${bounds}${ne ? ` and ${ne}` : ''}`);
  } else if (f.setSemantics) {
    parts.push([eq, ne].filter((s) => s !== '').join(' and '));
  } else if (eq && ne) {
    parts.push(`${eq}, or ${ne}`);
  } else parts.push(eq || ne);
  return parts.join('');
}

const KIND_WORDS: Record<string, string> = {
  comm: 'the process name',
  binary: "the executable's path",
  pid: 'the pid',
  ppid: "the parent's pid",
  uid: 'the uid',
  gid: 'the gid',
  host: 'the host name',
  container: 'the container id',
  mntns: 'the mount namespace',
  pidns: 'the pid namespace',
};

function eventWords(s: Scope): string {
  const ev = s.event;
  const base = s.allEvents ? 'every event' : ev.eq.size === 0 ? 'every event (the default set)' : `${values(ev.eq, ', ')}`.replace(/"start\.msg"/, 'process starts and execs (start.msg)');
  return ev.ne.size > 0 ? `${base}, except ${values(ev.ne, ', ')}` : base;
}

export function explainScope(s: Scope): string[] {
  const title = s.name === String(s.n) ? `scope ${s.n}` : `scope ${s.n} (policy "${s.name}")`;
  const lines = [`${title}:`, `  filters given: ${s.texts.join('  ')}`, `  records: ${eventWords(s)}`];
  if (s.sourcetype) lines.push(`  where the sourcetype ${describeKind(s.sourcetype)}`);
  const procs: string[] = [];
  for (const [kind, f] of s.process) {
    if (kind === 'tree') {
      const eq = f.eq.size > 0 ? `in the process tree of pid ${f.eq.written.join(' or ')}` : '';
      const ne = f.ne.size > 0 ? `not in the process tree of pid ${f.ne.written.join(' nor ')}` : '';
      procs.push([eq, ne].filter((x) => x !== '').join(' and '));
    } else procs.push(`${KIND_WORDS[kind] ?? kind} ${describeKind(f)}`);
  }
  if (s.pidNew !== undefined) procs.push(s.pidNew ? 'the process started after the filter began' : 'the process was running before the filter began');
  if (s.inContainer !== undefined) procs.push(s.inContainer ? 'the process runs in a container' : 'the process runs outside any container');
  if (procs.length > 0) lines.push(`  from processes where ${procs.join(', and ')}${s.follow ? ', and their descendants' : ''}`);
  else lines.push('  from every process');
  for (const [event, fields] of s.data) {
    for (const [field, f] of fields) lines.push(`  ${event} records only where data.${field} ${describeKind(f)}`);
  }
  for (const [event, failing] of s.error) lines.push(`  ${event} records only ${failing ? 'failures' : 'successes'} (errno set or HTTP status 400 and up)`);
  return lines;
}

export function explain(scopes: Scopes, scopeFilter: string): string {
  const lines: string[] = [];
  for (const s of scopes.values()) lines.push(...explainScope(s), '');
  lines.push('A record is written when any scope takes it; body.matchedScopes names which (bit N-1 for scope N).');
  lines.push(`For libscope (scope run -f, or SCOPE_FILTER): ${scopeFilter}`);
  return lines.join('\n');
}
