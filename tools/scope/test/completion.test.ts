/**
 * `scope completion bash|zsh|fish` and the man pages, against the tools' own definitions: every
 * verb, every option of every command is in them; bash's completion run for real (bash is always
 * there); the pages well-formed roff. zsh's and fish's scripts are run by those shells, and the pages
 * by groff, in test/apps/shells.test.ts (test:apps installs them).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@scope/core/testing';
import { allCommandDocs } from '../src/docs.js';
import { roff } from '../src/man.js';
import { VERBS } from '../src/verbs.js';

const bin = fileURLToPath(new URL('../../bin/scope.js', import.meta.url));
const manDir = fileURLToPath(new URL('../man/', import.meta.url));
const scope = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const docs = await allCommandDocs();
const dir = tempDir('scope-completion-');

test('bad input: no shell, two shells, or an unknown one is a usage error', () => {
  for (const args of [[], ['bash', 'zsh'], ['tcsh']]) {
    const r = scope(['completion', ...args]);
    assert.is(r.status, 2, args.join(' '));
    assert.is(r.stdout, '');
  }
  assert.match(scope(['completion', 'tcsh']).stderr, /"tcsh": no completion for that shell \(bash, zsh, fish\)/);
});

test('every built verb and every option of every command is in the definitions the scripts come from', () => {
  assert.equal(
    docs.map((d) => d.verb),
    VERBS.filter((v) => v.load).map((v) => v.name),
  );
  const events = docs.find((d) => d.verb === 'events');
  assert.ok(events?.options.some((o) => o.long === 'sourcetype' && o.short.includes('t') && o.takesValue));
  const filter = docs.find((d) => d.verb === 'filter');
  assert.equal(filter?.options.find((o) => o.long === 'format')?.values, ['json', 'table']);
  assert.ok(docs.find((d) => d.verb === 'run')?.positionals.some((p) => p.name === 'command'));
  for (const d of docs)
    assert.ok(
      d.options.some((o) => o.long === 'version'),
      d.verb,
    );
});

/** COMPREPLY for a command line whose last word is being completed, by the generated bash script. */
function complete(script: string, words: string[]): string[] {
  const line = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['--norc', '-c', `source '${script}'; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _scope_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('bash: verbs, options, fixed values, and the command to run', () => {
  const r = scope(['completion', 'bash']);
  assert.is(r.status, 0, r.stderr);
  const script = join(dir, 'scope.bash');
  writeFileSync(script, r.stdout);
  assert.is(spawnSync('bash', ['-n', script]).status, 0);
  assert.equal(complete(script, ['scope', 'ev']), ['events']);
  assert.equal(complete(script, ['scope', 'pro']).sort(), ['profile']);
  assert.equal(complete(script, ['scope', 'events', '--so']).sort(), ['--sort', '--source', '--sourcetype']);
  assert.equal(complete(script, ['scope-events', '--so']).sort(), ['--sort', '--source', '--sourcetype']);
  assert.equal(complete(script, ['scope', 'filter', '--format', '']).sort(), ['json', 'table']);
  assert.equal(complete(script, ['scope-export', '--otlp-encoding', 'p']), ['protobuf']);
  assert.equal(complete(script, ['scope', 'run', '-v', '9', '--', 'bas']).includes('bash'), true);
  assert.equal(complete(script, ['scope', 'bas']).includes('bash'), true, 'scope COMMAND is scope run COMMAND');
  // after the command, its own arguments: nothing of scope's
  assert.equal(complete(script, ['scope', 'run', 'ls', '--so']), []);
  // the reserved verbs are not offered
  assert.equal(complete(script, ['scope', 'wat']).includes('watch'), false);
  // every option of every command is offered after its verb
  for (const d of docs) {
    const offered = new Set(complete(script, ['scope', d.verb, '-']));
    for (const o of d.options) assert.ok(offered.has(`--${o.long}`), `scope ${d.verb} --${o.long}`);
  }
});

test('zsh and fish scripts name every command and option', () => {
  const zsh = scope(['completion', 'zsh']);
  const fish = scope(['completion', 'fish']);
  assert.is(zsh.status, 0, zsh.stderr);
  assert.is(fish.status, 0, fish.stderr);
  assert.match(zsh.stdout, /^#compdef scope scope-run /);
  for (const d of docs) {
    assert.ok(zsh.stdout.includes(`_scope_${d.verb}() {`), d.verb);
    assert.ok(fish.stdout.includes(`-n __fish_use_subcommand -a ${d.verb} `), d.verb);
    for (const o of d.options) {
      assert.ok(zsh.stdout.includes(`--${o.long}`), `zsh: ${d.verb} --${o.long}`);
      assert.ok(fish.stdout.includes(`'__fish_seen_subcommand_from ${d.verb}' -l ${o.long} `), `fish: ${d.verb} --${o.long}`);
      if (d.bin) assert.ok(fish.stdout.includes(`complete -c ${d.bin} -l ${o.long} `), `fish: ${d.bin} --${o.long}`);
    }
  }
});

test('roff escapes what troff would take as its own', () => {
  assert.is(roff('--source'), '\\-\\-source');
  assert.is(roff('a\\b'), 'a\\eb');
  assert.is(roff(".x\n'y"), "\\&.x\n\\&'y");
  assert.is(roff('NAME[,NAME…]'), 'NAME[,NAME\\[u2026]]');
});

test('a man page for scope and for every command, with each option, in ASCII roff', () => {
  const pages = readdirSync(manDir).sort();
  assert.equal(pages, ['scope.1', ...docs.flatMap((d) => (d.bin ? [`${d.bin}.1`] : []))].sort());
  for (const d of docs) {
    if (!d.bin) continue;
    const page = readFileSync(join(manDir, `${d.bin}.1`), 'utf8');
    assert.match(page, new RegExp(`^\\.TH ${roff(d.bin.toUpperCase()).replace(/\\/g, '\\\\')} 1 `));
    assert.ok(/^[\x00-\x7f]*$/.test(page), `${d.bin}.1 is ASCII`);
    for (const o of d.options) assert.ok(page.includes(`\\fB\\-\\-${roff(o.long)}\\fR`), `${d.bin}.1: --${o.long}`);
  }
  const scopePage = readFileSync(join(manDir, 'scope.1'), 'utf8');
  for (const d of docs) assert.ok(scopePage.includes(`\\fB${roff(d.verb)}\\fR`), d.verb);
});

test.run();
