/**
 * Every command as data, from the same definitions its parser uses (each tool's citty `args`): what
 * the shell completions (completion.ts) and the man pages (man.ts, scripts/man.mjs) are generated
 * from, so neither can drift from what the tools accept.
 */
import type { ArgsDef } from 'citty';
import type { ToolRun } from '@scope/core/run-api';
import { VERBS } from './verbs.js';

export interface OptionDoc {
  /** Without dashes: `sourcetype`. */
  long: string;
  /** One-letter aliases, without the dash. */
  short: string[];
  /** Longer aliases, without dashes. */
  aliases: string[];
  /** A value follows (string and enum options). */
  takesValue: boolean;
  /** Its values, when they are a fixed list. */
  values?: string[];
  /** What the value is (FILE, DIR, N, …); completions offer paths for FILE and DIR. */
  valueHint?: string;
  /** A boolean with a default of true is given as --no-<long>. */
  negated: boolean;
  description: string;
}

export interface PositionalDoc {
  name: string;
  description: string;
  required: boolean;
}

export interface CommandDoc {
  /** The verb (`events`), and the command that runs it alone (`scope-events`). */
  verb: string;
  /** null for a verb of scope's own, with no command of its own (completion). */
  bin: string | null;
  summary: string;
  description: string;
  options: OptionDoc[];
  positionals: PositionalDoc[];
}

const textOf = (v: unknown): string => (typeof v === 'string' ? v : '');

/** One tool's definitions as a CommandDoc. */
export function commandDoc(verb: string, summary: string, tool: ToolRun, own = false): CommandDoc {
  const cmd = tool.command as { meta?: unknown; args?: unknown };
  const meta = (typeof cmd.meta === 'object' && cmd.meta !== null ? cmd.meta : {}) as { description?: unknown };
  const args = (typeof cmd.args === 'object' && cmd.args !== null ? cmd.args : {}) as ArgsDef;
  const options: OptionDoc[] = [];
  const positionals: PositionalDoc[] = [];
  for (const [name, def] of Object.entries(args)) {
    const d = def as { type?: string; alias?: string | string[]; description?: string; valueHint?: string; options?: unknown[]; default?: unknown; required?: boolean };
    if (d.type === 'positional') {
      positionals.push({ name, description: textOf(d.description), required: d.required !== false });
      continue;
    }
    const alias = d.alias === undefined ? [] : Array.isArray(d.alias) ? d.alias : [d.alias];
    const option: OptionDoc = {
      long: name,
      short: alias.filter((a) => a.length === 1),
      aliases: alias.filter((a) => a.length > 1),
      takesValue: d.type === 'string' || d.type === 'enum',
      negated: d.type === 'boolean' && d.default === true,
      description: textOf(d.description),
    };
    if (d.type === 'enum' && Array.isArray(d.options)) option.values = d.options.map(String);
    if (d.valueHint !== undefined) option.valueHint = d.valueHint;
    options.push(option);
  }
  options.push({ long: 'help', short: ['h'], aliases: [], takesValue: false, negated: false, description: 'Print the usage and exit' });
  options.push({ long: 'version', short: [], aliases: [], takesValue: false, negated: false, description: 'Print the version and exit' });
  return { verb, bin: own ? null : `scope-${verb}`, summary, description: textOf(meta.description) || summary, options, positionals };
}

/** Every verb that is built, loaded (every tool package: for completions and man pages only). */
export async function allCommandDocs(): Promise<CommandDoc[]> {
  const docs: CommandDoc[] = [];
  for (const v of VERBS) if (v.load) docs.push(commandDoc(v.name, v.summary, await v.load(), v.own === true));
  return docs;
}

/** AppScope's verbs that are reserved, not built: named in `scope`'s own page. */
export const reservedVerbs = (): { verb: string; summary: string }[] => VERBS.filter((v) => !v.load).map((v) => ({ verb: v.name, summary: v.summary }));

/** Whether an option's value is a path (completions offer files for it). */
export const takesPath = (o: OptionDoc): boolean => o.takesValue && /FILE|DIR|PATH/.test(o.valueHint ?? '');
