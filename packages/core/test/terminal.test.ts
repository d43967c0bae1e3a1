/**
 * What reaches a person's terminal: printable() escapes control and bidi characters; a bug in a
 * tool is one line naming a report file (the stack is in the file, never on the terminal).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printable } from '../src/index.js';
import { tempDir } from '../src/testing.js';

test('printable: ESC, BEL, CSI/OSC, C1, CR, backspace, DEL and bidi controls escaped; text, tabs on request, UTF-8 kept', () => {
  assert.is(printable('\u001b]0;pwned\u0007'), '\\x1b]0;pwned\\x07');
  assert.is(printable('\u001b[2Jx'), '\\x1b[2Jx');
  assert.is(printable('a\rb\bc\u007f'), 'a\\rb\\x08c\\x7f');
  assert.is(printable('\u009b31m \u0085'), '\\x9b31m \\x85');
  assert.is(printable('abc\u202edef\u2066\u200f\ufeff'), 'abc\\u202edef\\u2066\\u200f\\ufeff');
  assert.is(printable('a\tb\nc'), 'a\\tb\\nc');
  assert.is(printable('a\tb\nc', { tab: true }), 'a\tb\\nc');
  assert.is(printable('a\tb\nc\u001b', { tab: true, newline: true }), 'a\tb\nc\\x1b');
  const plain = 'café 東京 ünïcødé 🙂 \\x1b already-escaped text, quotes "\'';
  assert.is(printable(plain), plain);
  assert.is(printable(''), '');
});

const coreIndex = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** Run a tool, through the real runner, whose main does `body`. */
function runTool(body: string, env: Record<string, string>, limit?: number): { status: number | null; stderr: string; stdout: string } {
  const dir = tempDir('scope-core-tool-');
  const script = join(dir, 'tool.mjs');
  writeFileSync(
    script,
    `import { runTool } from ${JSON.stringify(coreIndex)};
await runTool({ name: 'scope-x', command: { meta: { name: 'scope-x' } }, main: async () => { ${body} } });
`,
  );
  const argv = limit === undefined ? [process.execPath, script, 'an-arg'] : ['bash', '-c', `ulimit -n ${limit}; exec "$@"`, 'bash', process.execPath, script, 'an-arg'];
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function reportOf(stderr: string): string {
  const m = /^scope-x: internal error: (.*) \(details in (\/\S+); please report it with that file\)\n$/.exec(stderr);
  assert.ok(m, JSON.stringify(stderr));
  return m![2] as string;
}

test('a bug: one line with the message and a report file (0600, in $SCOPE_HOME/errors) holding stack, tool, version, argv, node', () => {
  const home = tempDir('scope-core-home-');
  const r = runTool(`function deep() { throw new TypeError('boom \\u001b[2J'); } deep(); return 0;`, { SCOPE_HOME: home });
  assert.is(r.status, 1);
  assert.not.match(r.stderr, /\n\s+at /);
  assert.not.ok(r.stderr.includes('\u001b'), 'the message escaped');
  assert.match(r.stderr, /^scope-x: internal error: boom \\x1b\[2J \(details in /);
  const file = reportOf(r.stderr);
  assert.is(join(home, 'errors'), join(file, '..'));
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.is(statSync(join(home, 'errors')).mode & 0o777, 0o700);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^tool: scope-x$/m);
  assert.match(text, /^version: \d+\.\d+\.\d+/m);
  assert.match(text, new RegExp(`^node: ${process.version.replace(/\./g, '\\.')} `, 'm'));
  assert.match(text, /^argv: \[.*"an-arg"\]$/m);
  assert.match(text, /TypeError: boom/);
  assert.match(text, /\n\s+at deep \(/);
});

test('a bug thrown outside main (a timer): the same one line, status 1', () => {
  const home = tempDir('scope-core-home-');
  const r = runTool(`setTimeout(() => { throw new RangeError('late'); }, 10); return new Promise(() => {});`, { SCOPE_HOME: home });
  assert.is(r.status, 1);
  assert.not.match(r.stderr, /\n\s+at /);
  const file = reportOf(r.stderr);
  assert.match(readFileSync(file, 'utf8'), /RangeError: late/);
});

test('$SCOPE_HOME unusable (a file): the report goes to the temporary directory, created there exclusively', () => {
  const tmp = tempDir('scope-core-tmp-');
  const notDir = join(tmp, 'home-file');
  writeFileSync(notDir, '');
  const r = runTool(`throw new Error('x');`, { SCOPE_HOME: notDir, TMPDIR: tmp });
  assert.is(r.status, 1);
  const file = reportOf(r.stderr);
  assert.is(join(file, '..'), tmp);
  assert.match(file, /\/scope-error-scope-x-[^/]+\.txt$/);
  assert.is(statSync(file).mode & 0o777, 0o600);
  // a second report in the same directory never reuses (or follows) a file already there
  const again = runTool(`throw new Error('y');`, { SCOPE_HOME: notDir, TMPDIR: tmp });
  assert.is.not(reportOf(again.stderr), file);
  assert.is(readdirSync(tmp).filter((n) => n.startsWith('scope-error-')).length, 2);
});

test('a ScopeError stays its own message, with its status; no report file', () => {
  const home = tempDir('scope-core-home-');
  mkdirSync(join(home, 'errors'));
  const r = runTool(`const { ScopeError } = await import(${JSON.stringify(coreIndex)}); throw new ScopeError('no such thing: \\u202eevil');`, { SCOPE_HOME: home });
  assert.is(r.status, 1);
  assert.is(r.stderr, 'scope-x: no such thing: \\u202eevil\n');
  assert.equal(readdirSync(join(home, 'errors')), []);
});

// Open /dev/null until the limit is reached (the descriptors stay open), then do `then`.
const exhaust = (then: string) => `const { openSync } = await import('node:fs'); try { for (;;) openSync('/dev/null', 'r'); } catch (e) { if (e.code !== 'EMFILE') throw e; } ${then}`;

test('out of descriptors in a tool (EMFILE): what to raise, status 1, no trace and no report', () => {
  const home = tempDir('scope-core-home-');
  const r = runTool(exhaust(`openSync('/dev/null', 'r'); return 0;`), { SCOPE_HOME: home }, 64);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr, 'scope-x: too many open files (ulimit -n is 64); raise it (ulimit -n 1024)\n');
});

test('out of descriptors when a module is loaded lazily (as `scope <verb>` loads its tool): the same message', () => {
  const home = tempDir('scope-core-home-');
  const lazy = JSON.stringify(fileURLToPath(new URL('../src/testing.js', import.meta.url)));
  const r = runTool(exhaust(`await import(${lazy}); return 0;`), { SCOPE_HOME: home }, 64);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr, 'scope-x: too many open files (ulimit -n is 64); raise it (ulimit -n 1024)\n');
});

test.run();
