/**
 * Argument groups shared by several tools (typed `as const satisfies ArgsDef` so citty infers the
 * parsed types), and the strict parsing citty leaves to us: unknown flags are usage errors, and for
 * verbs that run a command (`run`, later `attach`) our flags end where the command begins.
 */
import { parseArgs } from 'citty';
import type { ArgsDef, ParsedArgs } from 'citty';
import { UsageError } from './errors.js';
import { destinationProblem } from './config.js';
import type { ScopePairs } from './config.js';

/** --json / --pretty: force NDJSON or the format for people. */
export const outputArgs = {
  json: { type: 'boolean', description: 'Write NDJSON records, even on a terminal' },
  pretty: { type: 'boolean', description: 'Write for people, even into a pipe' },
} as const satisfies ArgsDef;

/** The settings AppScope's `scope run` takes; `attach` will take the same. */
export const runConfigArgs = {
  userconfig: { type: 'string', alias: 'u', valueHint: 'scope.yml', description: 'Use this scope.yml' },
  eventdest: { type: 'string', alias: 'e', valueHint: 'URL', description: 'Send events here (file:///path, file://stdout, tcp://host:port, …)' },
  metricdest: { type: 'string', alias: 'm', valueHint: 'URL', description: 'Send metrics here' },
  metricformat: { type: 'enum', options: ['ndjson', 'statsd'], description: 'Metric format: ndjson or statsd' },
  verbosity: { type: 'string', alias: 'v', valueHint: '0-9', description: 'Metric verbosity, 0 (least) to 9' },
  payloads: { type: 'boolean', alias: 'p', description: "Capture network payloads (TLS after decryption) in the session's payloads/" },
  librarypath: { type: 'string', alias: 'l', valueHint: 'DIR|FILE', description: 'Use the libscope.so in this directory (or this file)' },
  backtrace: { type: 'boolean', alias: 'b', description: "On a crash, write a backtrace of the crashing thread in the session's crash/" },
  coredump: { type: 'boolean', alias: 'd', description: "On a crash, write a core file in the session's crash/ (gdb loads it)" },
  maxfilesize: { type: 'string', valueHint: 'SIZE', description: 'Cap each events/metrics file at SIZE bytes (K, M, G suffixes); past it records are dropped, counted, with a notice' },
} as const satisfies ArgsDef;

/** A size in bytes from a flag: a whole number with an optional K, M or G (powers of 1024). */
export function bytesFlag(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d+)([kmg]?)i?b?$/i.exec(value.trim());
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').toLowerCase()] ?? 1;
  const n = m ? Number(m[1]) * scale : NaN;
  if (!m || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flag}: "${value}" is not a size of at least ${min} bytes (a whole number, with K, M or G)`);
  }
  return n;
}

/** Scopes of filters (scope-filter's language), which `scope run` hands to libscope too. */
export const filterArgs = {
  filter: { type: 'string', alias: 'f', valueHint: '[N:]KIND OP VALUES', description: 'A filter of scope N (1-64, default 1); repeat it. E.g. -f comm=curl -f 2:event=dns.*' },
  policy: { type: 'string', valueHint: 'FILE|DIR', description: 'Policies in YAML (one scope each); repeatable' },
} as const satisfies ArgsDef;

type RunConfigParsed = ParsedArgs<typeof runConfigArgs>;

/** The SCOPE_* pairs that the run flags set (validated; a bad value is a UsageError naming the flag). */
export function runFlagPairs(args: Partial<RunConfigParsed>): ScopePairs {
  const out: ScopePairs = {};
  const dest = (flag: string, value: unknown, key: string) => {
    if (typeof value !== 'string') return;
    const problem = destinationProblem(value);
    if (problem) throw new UsageError(`--${flag}: ${problem}`);
    out[key] = value;
  };
  dest('eventdest', args.eventdest, 'SCOPE_EVENT_DEST');
  dest('metricdest', args.metricdest, 'SCOPE_METRIC_DEST');
  if (typeof args.metricformat === 'string') out['SCOPE_METRIC_FORMAT'] = args.metricformat;
  if (typeof args.verbosity === 'string') {
    if (!/^[0-9]$/.test(args.verbosity)) throw new UsageError(`--verbosity: "${args.verbosity}" is not a level from 0 to 9`);
    out['SCOPE_METRIC_VERBOSITY'] = args.verbosity;
  }
  if (args.backtrace !== undefined) out['SCOPE_SNAPSHOT_BACKTRACE'] = String(args.backtrace);
  if (args.coredump !== undefined) out['SCOPE_SNAPSHOT_COREDUMP'] = String(args.coredump);
  if (typeof args.maxfilesize === 'string') out['SCOPE_FILE_MAXBYTES'] = String(bytesFlag('maxfilesize', args.maxfilesize, 0, 4096));
  if (args.payloads === true) out['SCOPE_PAYLOAD_ENABLE'] = 'true';
  else if (args.payloads === false) out['SCOPE_PAYLOAD_ENABLE'] = 'false';
  return out;
}

interface FlagSpec {
  name: string;
  takesValue: boolean;
}

function flagTable(def: ArgsDef): Map<string, FlagSpec> {
  const table = new Map<string, FlagSpec>();
  const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  for (const [name, arg] of Object.entries(def)) {
    if (arg.type === 'positional') continue;
    const spec = { name, takesValue: arg.type === 'string' || arg.type === 'enum' };
    const alias = (arg as { alias?: string | string[] }).alias;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const n of [name, kebab(name), ...aliases]) table.set(n, spec);
    if (!spec.takesValue) table.set(`no-${name}`, spec);
  }
  table.set('help', { name: 'help', takesValue: false });
  table.set('h', { name: 'help', takesValue: false });
  table.set('version', { name: 'version', takesValue: false });
  return table;
}

/**
 * Split argv into our flags and the rest: flags are read until `--` or the first word that is not
 * a flag (so `scope run -v 9 ls -l` gives ls its own -l). Unknown flags are UsageErrors.
 * Returns the flag words (for citty) and the remaining words.
 */
export function splitLeadingFlags(rawArgs: string[], def: ArgsDef): { flags: string[]; rest: string[] } {
  const table = flagTable(def);
  const flags: string[] = [];
  let i = 0;
  while (i < rawArgs.length) {
    const word = rawArgs[i] as string;
    if (word === '--') return { flags, rest: rawArgs.slice(i + 1) };
    if (!word.startsWith('-') || word === '-') break;
    const body = word.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    // -abc style bundles of short booleans are not used by our tools; take -vVALUE as -v VALUE.
    let spec = table.get(name);
    if (!spec && !word.startsWith('--') && name.length > 1) {
      const short = table.get(name[0] as string);
      if (short?.takesValue) {
        flags.push(`-${name[0]}`, name.slice(1));
        i++;
        continue;
      }
    }
    if (!spec) throw new UsageError(`unknown option "${word}"`);
    flags.push(word);
    i++;
    if (spec.takesValue && eq < 0) {
      if (i >= rawArgs.length) throw new UsageError(`option "${word}" needs a value`);
      flags.push(rawArgs[i] as string);
      i++;
    }
    spec = undefined;
  }
  return { flags, rest: rawArgs.slice(i) };
}

/** Reject unknown flags anywhere in argv (for tools without a trailing command). */
export function checkFlags(rawArgs: string[], def: ArgsDef): void {
  const table = flagTable(def);
  for (const word of rawArgs) {
    if (word === '--') return;
    if (!word.startsWith('-') || word === '-' || /^-\d/.test(word)) continue;
    const name = word.replace(/^--?/, '').split('=')[0] as string;
    if (!table.has(name) && !(word.length > 2 && !word.startsWith('--') && table.get(name[0] as string)?.takesValue)) {
      throw new UsageError(`unknown option "${word}"`);
    }
  }
}

/** citty's parser with its errors turned into UsageErrors. */
export function parseFlags<T extends ArgsDef>(flags: string[], def: T): ParsedArgs<T> {
  try {
    return parseArgs<T>(flags, def);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\u001b\[[0-9;]*m/g, ''));
  }
}

/**
 * Every value given for a repeatable string flag, in order (citty keeps only the last): `-f V`,
 * `-fV`, `--filter V`, `--filter=V`. Stops at `--`.
 */
export function flagValues(rawArgs: string[], long: string, short?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const w = rawArgs[i] as string;
    if (w === '--') break;
    const next = () => {
      if (i + 1 >= rawArgs.length) throw new UsageError(`option "${w}" needs a value`);
      out.push(rawArgs[++i] as string);
    };
    if (w === `--${long}` || (short !== undefined && w === `-${short}`)) next();
    else if (w.startsWith(`--${long}=`)) out.push(w.slice(long.length + 3));
    else if (short !== undefined && w.startsWith(`-${short}`) && !w.startsWith('--')) out.push(w.slice(2));
  }
  return out;
}
