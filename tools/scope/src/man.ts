/**
 * Man pages in roff (man(7)), generated from the tools' own definitions (docs.ts) by the build
 * (scripts/man.mjs → dist/man/): scope(1), and scope-<verb>(1) for every command. npm links them into
 * the prefix's share/man/man1 at `npm install -g` (package.json "man"), so `man scope-events`
 * works where man does.
 */
import type { CommandDoc, OptionDoc } from './docs.js';

/**
 * Text for roff: backslashes escaped, dashes literal, other than ASCII as \[uXXXX] (troff reads bytes;
 * man's preconv would convert UTF-8, groff alone does not), a line never starting with a control
 * character.
 */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

const optionLine = (o: OptionDoc): string => {
  const forms = [...o.short.map((s) => `\\fB\\-${s}\\fR`), `\\fB\\-\\-${roff(o.long)}\\fR`, ...o.aliases.map((a) => `\\fB\\-\\-${roff(a)}\\fR`)];
  const value = o.takesValue ? ` \\fI${roff(o.values ? o.values.join('|') : (o.valueHint ?? 'VALUE'))}\\fR` : '';
  return forms.join(', ') + value;
};

const header = (name: string, version: string, summary: string): string[] => [
  `.TH ${roff(name.toUpperCase())} 1 "" "scope ${roff(version)}" "scope"`,
  '.SH NAME',
  `${roff(name)} \\- ${roff(summary)}`,
];

const seeAlso = (names: string[]): string[] => ['.SH SEE ALSO', names.map((n) => `\\fB${roff(n)}\\fR(1)`).join(', ')];

/** scope-<verb>(1). */
export function commandPage(d: CommandDoc, version: string, all: CommandDoc[]): string {
  const name = d.bin ?? `scope ${d.verb}`;
  const usage = [`\\fB${roff(name)}\\fR [\\fIoptions\\fR]`, ...d.positionals.map((p) => (p.required ? `\\fI${roff(p.name)}\\fR` : `[\\fI${roff(p.name)}\\fR]`))].join(' ');
  const lines = [...header(name, version, d.summary), '.SH SYNOPSIS', usage];
  if (d.bin) lines.push('.br', `\\fBscope ${roff(d.verb)}\\fR [\\fIoptions\\fR] ...`);
  lines.push('.SH DESCRIPTION', roff(d.description) + (d.description.endsWith('.') ? '' : '.'));
  if (d.positionals.length > 0) {
    lines.push('.SH ARGUMENTS');
    for (const p of d.positionals) lines.push('.TP', `\\fI${roff(p.name)}\\fR`, roff(p.description));
  }
  lines.push('.SH OPTIONS');
  for (const o of d.options) {
    lines.push('.TP', optionLine(o), roff(o.description));
    if (o.negated) lines.push(`Given as \\fB\\-\\-no\\-${roff(o.long)}\\fR to turn it off.`);
  }
  lines.push(
    '.SH EXIT STATUS',
    roff(
      '2 on a usage error (a bad option or argument), with the usage on standard error; 1 on a failure, with a message naming what failed; ' +
        (d.verb === 'run' ? "otherwise the command's own status (125 when a command that succeeded left no record)." : "otherwise 0, or as the tool's README says."),
    ),
    '.SH ENVIRONMENT',
    '.TP',
    '\\fBSCOPE_HOME\\fR',
    'Where sessions are kept (default \\fI~/.scope\\fR).',
    '.TP',
    '\\fBNO_COLOR\\fR, \\fBFORCE_COLOR\\fR',
    'No colours on a terminal; colours into a pipe.',
    ...seeAlso(['scope', ...all.filter((o) => o !== d && o.bin).map((o) => o.bin as string)].slice(0, 8)),
  );
  return lines.join('\n') + '\n';
}

/** scope(1): the verbs, and `scope COMMAND` as `scope run`. */
export function scopePage(all: CommandDoc[], reserved: { verb: string; summary: string }[], version: string): string {
  const run = all.find((d) => d.verb === 'run');
  const lines = [
    ...header('scope', version, 'see what any Linux command or process does, with no code change'),
    '.SH SYNOPSIS',
    '\\fBscope\\fR \\fIverb\\fR [\\fIoptions\\fR] [\\fIargs\\fR]',
    '.br',
    '\\fBscope\\fR [\\fIrun options\\fR] [\\fB\\-\\-\\fR] \\fIcommand\\fR [\\fIargs\\fR...]',
    '.SH DESCRIPTION',
    roff(
      'scope records what a command or a running process does (files, console, network, DNS, HTTP, processes, resources) as NDJSON records, ' +
        'by loading libscope into it. Each verb runs the tool scope-<verb> in the same process; anything that is not a verb is scope run. ' +
        'A first word that is neither a verb nor a program but close to a verb is a usage error that names the verb meant.',
    ),
    '.SH VERBS',
  ];
  for (const d of all) lines.push('.TP', `\\fB${roff(d.verb)}\\fR`, roff(d.summary) + (d.bin ? ` (\\fB${roff(d.bin)}\\fR(1))` : ''));
  if (reserved.length > 0) {
    lines.push(
      '.PP',
      roff(`AppScope's verbs not built here yet, reserved: ${reserved.map((r) => r.verb).join(', ')}. They are a usage error (status 2); scope run -- NAME scopes a program of that name.`),
    );
  }
  if (run) {
    lines.push('.SH RUN OPTIONS');
    for (const o of run.options) lines.push('.TP', optionLine(o), roff(o.description));
  }
  lines.push(
    '.SH EXAMPLES',
    '.nf',
    roff('scope run -- cat /etc/hostname'),
    roff('scope-run -- curl -s http://example.org | scope-events --match net'),
    roff('scope report'),
    roff('scope attach nginx'),
    '.fi',
    '.SH SHELL COMPLETION',
    roff('source <(scope completion bash); scope completion zsh and scope completion fish print the others.'),
    ...seeAlso(all.flatMap((d) => (d.bin ? [d.bin] : []))),
  );
  return lines.join('\n') + '\n';
}
