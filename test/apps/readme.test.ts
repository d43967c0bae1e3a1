/**
 * Every recipe of the README (each command line of its ```sh blocks) runs as written, in a shell, in
 * a fresh directory with a SCOPE_HOME of its own: `scope` and `scope-*` are this checkout's commands
 * (on PATH, as an install puts them), `npx X` runs X the same, `sudo` is the command itself (the tests
 * run as root). The lines that need what a fresh machine here has not (the internet, a file of the
 * reader's own, a running nginx, the project's own npm scripts) are listed below with the reason and
 * the test that covers them instead; every other line must exit 0 (or the status the README says)
 * with no error from jq or the shell. What a line reads is given to it first where the README
 * assumes it (a Makefile for `make`, a run with a connection before `scope flows`, a baseline before
 * `scope diff`). test/apps/install.sh installs jq.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '@scope/core/testing';
import { envFor, repoRoot } from '../lib/harness.js';

/** The command lines of the README's sh blocks, continuation lines joined, comments dropped. */
export function recipes(markdown: string): string[] {
  const out: string[] = [];
  let inside = false;
  let pending = '';
  for (const raw of markdown.split('\n')) {
    if (/^```sh\s*$/.test(raw)) {
      inside = true;
      continue;
    }
    if (raw.startsWith('```')) {
      inside = false;
      continue;
    }
    if (!inside) continue;
    const line = pending + raw;
    if (line.endsWith('\\')) {
      pending = line.slice(0, -1);
      continue;
    }
    pending = '';
    const code = line.replace(/\s+#\s.*$/, '').trim();
    if (code === '' || code.startsWith('#')) continue;
    out.push(code);
  }
  return out;
}

/** Lines not run here, and why. */
const NOT_HERE: [RegExp, string][] = [
  [/^npm (install|ci|test|run )/, "the project's own commands: CI runs them; install.test.ts installs @scope/scope"],
  [/https?:\/\/example\.org/, 'the internet (not reachable here)'],
  [/python3 client\.py/, "a program of the reader's own"],
  [/sh script\.sh/, "a script of the reader's own (that asks the internet)"],
  [/scope attach "\$\(pgrep -xo nginx\)"/, 'a running nginx: test/apps/nginx.test.ts attaches to one'],
];

/** Statuses a line may end with besides 0, as the README says. */
const STATUS: [RegExp, number[], string][] = [[/scope diff /, [0, 1], 'exit 1 when the job ran a new binary or reached a new host']];

const home = tempDir('scope-readme-');
const work = join(home, 'work');
const bin = join(home, 'bin');
mkdirSync(work);
mkdirSync(bin);
// the commands as installed: scope, scope-*, and npx running them; sudo the command itself
for (const tool of readdirSync(join(repoRoot, 'tools'))) {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'tools', tool, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  for (const [name, file] of Object.entries(manifest.bin ?? {})) {
    if (tool === 'scope' && name !== 'scope') continue;
    writeFileSync(join(bin, name), `#!/bin/sh\nexec '${process.execPath}' '${join(repoRoot, 'tools', tool, file)}' "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
}
writeFileSync(join(bin, 'npx'), '#!/bin/sh\nexec "$@"\n');
writeFileSync(join(bin, 'sudo'), '#!/bin/sh\nexec "$@"\n');
chmodSync(join(bin, 'npx'), 0o755);
chmodSync(join(bin, 'sudo'), 0o755);
writeFileSync(join(work, 'Makefile'), 'all:\n\tcat /etc/hostname > out.txt\n\tcat out.txt\ntest: all\n\ttest -s out.txt\n');
const env = envFor(join(home, 'scope'), { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });

function sh(line: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', line], { cwd: work, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** What a line reads, made first (see the top). */
async function prepare(line: string): Promise<void> {
  if (/scope flows/.test(line)) {
    // a run with a connection to a local server, its bytes kept (-p), so that flow 1 exists
    const server = createServer((_req, res) => res.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const fetch = `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}/').read()`;
    // asynchronously: the server answers from this process's event loop
    await new Promise<void>((resolve) => {
      const c = spawn('bash', ['-c', `scope run -p -- python3 -c "${fetch}"`], { cwd: work, env, stdio: 'ignore' });
      c.on('close', () => resolve());
    });
    server.close();
  }
  if (/scope diff baseline\.yml/.test(line)) assert.is(sh('scope profile > baseline.yml').status, 0);
  if (/scope diff ci\/baseline\.yml/.test(line)) {
    mkdirSync(join(work, 'ci'), { recursive: true });
    assert.is(sh('scope profile > ci/baseline.yml').status, 0);
    writeFileSync(join(work, 'ci', 'allow.yml'), 'arguments: ["**"]\nfiles.written: ["/tmp/**"]\n');
  }
}

const lines = recipes(readFileSync(join(repoRoot, 'README.md'), 'utf8'));

test('the README has recipes, and every one is run here or said why not', () => {
  assert.ok(lines.length >= 20, `${lines.length} lines`);
  const skipped = lines.filter((l) => NOT_HERE.some(([re]) => re.test(l)));
  assert.ok(skipped.length <= 12, skipped.join('\n'));
  for (const [re, why] of NOT_HERE)
    assert.ok(
      lines.some((l) => re.test(l)),
      `a skip that matches no line any more: ${re} (${why})`,
    );
});

for (const line of lines) {
  if (NOT_HERE.some(([re]) => re.test(line))) continue;
  test(`runs as written: ${line}`, async () => {
    await prepare(line);
    const r = sh(line);
    const allowed = [0, ...(STATUS.find(([re]) => re.test(line))?.[1] ?? [])];
    assert.ok(allowed.includes(r.status ?? -1), `status ${r.status}\n${r.stderr.slice(-2000)}`);
    assert.not.match(r.stderr, /jq: error|command not found|Cannot iterate/, r.stderr.slice(-2000));
  });
}

test.run();
