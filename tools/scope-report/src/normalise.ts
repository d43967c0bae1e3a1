/**
 * Paths and arguments made comparable between two runs of the same job: what differs by accident
 * (the home directory, mktemp's random names, pids, long numbers such as timestamps) is replaced by
 * a placeholder, what differs on purpose (a new file, a new host) is kept.
 *
 *   /home/ci/.cache/x        → ~/.cache/x               (the user's home, from $HOME)
 *   /tmp/tmp.Xa3bQ9          → /tmp/tmp.*               (mktemp-style names below a temporary directory)
 *   /proc/4242/status        → /proc/<pid>/status
 *   build-1796655735.log     → build-<n>.log            (a run of 6 or more digits)
 */

export interface NormaliseOptions {
  home?: string | undefined;
  /** Temporary directories besides /tmp, /var/tmp and /dev/shm ($TMPDIR). */
  tmpdirs?: string[];
}

const TEMP_DIRS = ['/tmp', '/var/tmp', '/dev/shm'];

/**
 * A name mktemp or a program's own temporary naming would make: a stem, a separator and a random
 * tail of 6 or more letters and digits that has at least one digit or mixes cases.
 */
function randomTail(name: string): string | null {
  const m = /^(.*?[._-])?([A-Za-z0-9]{6,})$/.exec(name);
  if (!m) return null;
  const tail = m[2]!;
  const mixed = /\d/.test(tail) || (/[a-z]/.test(tail) && /[A-Z]/.test(tail));
  if (!mixed || /^\d+$/.test(tail)) return null;
  return `${m[1] ?? ''}*`;
}

export function normalisePath(path: string, o: NormaliseOptions = {}): string {
  let p = path;
  const home = o.home?.replace(/\/+$/, '');
  if (home && home !== '' && home !== '/' && (p === home || p.startsWith(home + '/'))) p = '~' + p.slice(home.length);
  p = p.replace(/^\/proc\/\d+(?=\/|$)/, '/proc/<pid>').replace(/^\/proc\/<pid>\/task\/\d+/, '/proc/<pid>/task/<tid>');
  for (const dir of [...TEMP_DIRS, ...(o.tmpdirs ?? [])]) {
    const d = dir.replace(/\/+$/, '');
    if (d === '' || !p.startsWith(d + '/')) continue;
    p = `${d}/${p
      .slice(d.length + 1)
      .split('/')
      .map((c) => randomTail(c) ?? c)
      .join('/')}`;
    break;
  }
  return p.replace(/\d{6,}/g, '<n>');
}

/** An argument as a pattern: paths normalised as above, long numbers as <n>. */
export function normaliseArg(arg: string, o: NormaliseOptions = {}): string {
  // Paths inside an argument (--out=/tmp/tmp.x1y2z3/a) are normalised where they start.
  return arg.replace(/(^|[=:,])(\/[^\s=:,]*)/g, (_m, pre: string, path: string) => pre + normalisePath(path, o)).replace(/\d{6,}/g, '<n>');
}
