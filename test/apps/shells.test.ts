/**
 * scope's shell completions in the shells themselves, and its man pages through groff (test/apps/
 * install.sh installs zsh, fish and groff-base): fish completes command lines non-interactively
 * (`complete -C`); zsh parses the script and, under compinit, registers it for every command; groff
 * formats every page without a warning.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@scope/core/testing';
import { repoRoot, scopeBin } from '../lib/harness.js';

const dir = tempDir('scope-shells-');
function script(shell: string): string {
  const r = spawnSync(process.execPath, [scopeBin, 'completion', shell], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const file = join(dir, shell === 'zsh' ? '_scope' : `scope.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir } });

test('fish completes verbs, options, fixed values and the command to run', () => {
  const file = script('fish');
  assert.is(sh('fish', ['-n', file]).status, 0);
  const complete = (line: string): string[] => {
    const r = sh('fish', ['--no-config', '-c', `source '${file}'; complete -C'${line}'`]);
    assert.is(r.status, 0, r.stderr);
    return r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t')[0] as string);
  };
  assert.ok(complete('scope ev').includes('events'));
  assert.equal(complete('scope events --so').sort(), ['--sort', '--source', '--sourcetype']);
  assert.equal(complete('scope-events --so').sort(), ['--sort', '--source', '--sourcetype']);
  assert.equal(complete('scope-filter --format ').sort(), ['json', 'table']);
  assert.ok(complete('scope run -- bas').includes('bash'));
  // a reserved verb is neither offered as a verb nor as the program of that name
  assert.not.ok(complete('scope wat').includes('watch'));
});

test('zsh parses the script and registers it for scope and every command', () => {
  const file = script('zsh');
  assert.is(sh('zsh', ['-n', file]).status, 0);
  const r = sh('zsh', [
    '-f',
    '-c',
    `fpath=('${dir}' $fpath); autoload -U compinit; compinit -u -d '${dir}/zcompdump'; source '${file}'; print -r -- $_comps[scope] $_comps[scope-events] $_comps[scope-run]; print -r -- \${+functions[_scope_events]} \${+functions[_scope_run]}`,
  ]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(r.stdout.split('\n').slice(0, 2), ['_scope _scope _scope', '1 1']);
  // the programs offered after `scope` leave out the reserved verbs' names
  assert.match(readFileSync(file, 'utf8'), /programs=\(\$\{\(k\)commands:#\(watch\|dash\|start\|stop\|service\|k8s\|extract\)\}\)/);
});

test('groff formats every man page without a warning', () => {
  const man = join(repoRoot, 'tools/scope/dist/man');
  const pages = readdirSync(man);
  assert.ok(pages.length >= 20);
  for (const page of pages) {
    const r = sh('groff', ['-man', '-ww', '-z', join(man, page)]);
    assert.is(r.status, 0, page);
    assert.is(r.stderr, '', page);
  }
});

test.run();
