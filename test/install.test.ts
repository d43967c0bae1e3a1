/**
 * scope installed as a user installs it, without this repository: every published package packed by
 * `npm pack` (the tarballs are all that is used of the checkout), served by a registry of their own
 * on loopback (a few lines below: @scope/* only; every other package comes from npm's registry as
 * configured), and `npm install -g --prefix <temporary> @scope/scope`. Then the installed bins, not
 * the checkout's, run a command, a pipe and an attach; every bin answers --version with the one
 * version; and libscope is built from the package's sources where no prebuilt binaries fit
 * (scripts/install.mjs), or says what is missing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { testProgramDir } from '@scope/libscope';
import { tempDir } from '@scope/core/testing';
import { parseLines, repoRoot } from './lib/harness.js';

const work = tempDir('scope-install-');
const packs = join(work, 'packs');
const prefix = join(work, 'prefix');
const bin = (name: string) => join(prefix, 'bin', name);
const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; workspaces: string[] };
const version = rootManifest.version;

/** Every workspace that is published (not private): its directory and package.json. */
function published(): { dir: string; manifest: Record<string, any> }[] {
  const dirs: string[] = [];
  for (const w of rootManifest.workspaces) {
    if (w.endsWith('/*')) for (const d of readdirSync(join(repoRoot, w.slice(0, -2))).sort()) dirs.push(join(repoRoot, w.slice(0, -2), d));
    else dirs.push(join(repoRoot, w));
  }
  return dirs.map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, any> })).filter((p) => p.manifest['private'] !== true);
}

/** The environment of this process without what `npm test` set for its own scripts, nor SCOPE_*. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const npmOwn = /^(npm_package_|npm_lifecycle_|npm_config_(prefix|local_prefix|global_prefix|cache|workspace|workspaces|include_workspace_root)$)/;
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('SCOPE_') || k === 'LD_PRELOAD' || k === 'INIT_CWD' || npmOwn.test(k)) continue;
    env[k] = v;
  }
  return { ...env, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false', ...extra };
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}
function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): Ran {
  const r = spawnSync(file, args, { env: options.env ?? cleanEnv(), cwd: options.cwd ?? work, encoding: 'utf8', timeout: options.timeout ?? 300_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** run(), letting this process's event loop go on (the registry below answers from it). */
function runAsync(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The registry: a packument per @scope/* package (its package.json and its tarball's integrity). */
const tarballs = new Map<string, { file: string; integrity: string; shasum: string; manifest: Record<string, any> }>();
const registry = createServer((req, res) => {
  const url = decodeURIComponent(req.url ?? '/');
  const port = (registry.address() as AddressInfo).port;
  const tar = url.match(/^\/-\/(.+\.tgz)$/);
  if (tar) {
    const entry = [...tarballs.values()].find((t) => t.file === tar[1]);
    if (entry) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(readFileSync(join(packs, entry.file)));
      return;
    }
  }
  const entry = tarballs.get(url.slice(1));
  if (!entry) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
    return;
  }
  const manifest: Record<string, unknown> = { ...entry.manifest, _id: `${entry.manifest['name']}@${entry.manifest['version']}` };
  manifest['dist'] = { tarball: `http://127.0.0.1:${port}/-/${entry.file}`, integrity: entry.integrity, shasum: entry.shasum };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ name: entry.manifest['name'], 'dist-tags': { latest: entry.manifest['version'] }, versions: { [entry.manifest['version']]: manifest } }));
});

let installed: Ran | undefined;

// uvu reports nothing of a hook that throws: the failure is printed here, and every test then fails.
test.before(async () => {
  try {
    await setUp();
  } catch (err) {
    console.error(err);
  }
});

async function setUp(): Promise<void> {
  mkdirSync(packs);
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  const pkgs = published();
  const pack = run('npm', ['pack', '--json', '--pack-destination', packs, ...pkgs.flatMap((p) => ['-w', p.dir])], { cwd: repoRoot, env: cleanEnv() });
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const packed = JSON.parse(pack.stdout) as { name: string; filename: string; integrity: string; shasum: string; files: { path: string }[] }[];
  for (const p of packed) {
    const manifest = pkgs.find((x) => x.manifest['name'] === p.name)?.manifest ?? {};
    tarballs.set(p.name, { file: p.filename.replace(/^@/, '').replace('/', '-'), integrity: p.integrity, shasum: p.shasum, manifest });
    (tarballs.get(p.name) as any).files = p.files.map((f) => f.path);
  }
  const port = (registry.address() as AddressInfo).port;
  installed = await runAsync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', `--@scope:registry=http://127.0.0.1:${port}/`, '@scope/scope'], cleanEnv());
}

test.after(() => {
  registry.close();
});

test('every published package packs with what it needs and nothing of its tests', () => {
  assert.ok(tarballs.size >= 14, `${tarballs.size} packages packed`);
  for (const [name, t] of tarballs) {
    const files = (t as any).files as string[];
    assert.ok(files.includes('package.json'), name);
    assert.not.ok(
      files.some((f) => /(^|\/)(test|fuzz)\//.test(f) && !f.startsWith('src/')),
      `${name} ships tests: ${files.filter((f) => /test\//.test(f)).join(' ')}`,
    );
    const bins = Object.values((t.manifest['bin'] ?? {}) as Record<string, string>).map((b) => b.replace(/^\.\//, ''));
    for (const b of bins) assert.ok(files.includes(b), `${name}: bin ${b} not packed`);
    if (t.manifest['main']) assert.ok(files.includes(String(t.manifest['main']).replace(/^\.\//, '')), `${name}: main ${t.manifest['main']} not packed`);
    assert.is(t.manifest['version'], version, `${name}'s version`);
  }
  const lib = (tarballs.get('@scope/libscope') as any).files as string[];
  for (const f of ['libscope.so', 'scope_addon.node', 'scope-exec', 'scope-supervise']) assert.ok(lib.includes(`prebuilds/linux-x64/${f}`), f);
});

test('npm install -g of @scope/scope from a registry installs every bin', () => {
  assert.is(installed?.status, 0, installed?.stderr);
  const bins = readdirSync(join(prefix, 'bin')).sort();
  const wanted = [...new Set([...tarballs.values()].flatMap((t) => Object.keys((t.manifest['bin'] ?? {}) as Record<string, string>)))].sort();
  const shims = run(process.execPath, [join(repoRoot, 'tools/scope/scripts/bins.mjs'), '--check']);
  assert.is(shims.status, 0, shims.stderr);
  // the man pages, linked where man finds them
  const pages = readdirSync(join(prefix, 'share', 'man', 'man1')).sort();
  assert.equal(pages, ['scope.1', ...wanted.filter((b) => b !== 'scope').map((b) => `${b}.1`)].sort());
  // and the completion scripts come from the installed commands
  const completion = run(bin('scope'), ['completion', 'bash']);
  assert.is(completion.status, 0, completion.stderr);
  assert.match(completion.stdout, /complete -F _scope_complete scope scope-run /);
  assert.equal(bins, wanted);
});

test('every installed bin answers --version with the one version', () => {
  for (const name of readdirSync(join(prefix, 'bin'))) {
    const r = run(bin(name), ['--version']);
    assert.is(r.status, 0, `${name}: ${r.stderr}`);
    assert.is(r.stdout, name === 'scope' ? `${version}\n` : `${name} ${version}\n`);
  }
  const check = run(process.execPath, [join(repoRoot, 'scripts/version.mjs')]);
  assert.is(check.status, 0, check.stderr);
  assert.is(check.stdout.trim(), version);
});

test('the installed scope runs a command with the installed libscope', () => {
  const home = join(work, 'home-run');
  const env = cleanEnv({ SCOPE_HOME: home });
  const r = run(bin('scope'), ['run', '--no-stream', '--', 'cat', '/etc/hostname'], { env });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, readFileSync('/etc/hostname', 'utf8'));
  const [session] = readdirSync(join(home, 'history'));
  const dir = join(home, 'history', session as string);
  const manifest = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as Record<string, any>;
  assert.is(manifest['scopeVersion'], version);
  const events = parseLines(readFileSync(join(dir, 'events.json'), 'utf8'));
  assert.ok(
    events.some((e) => e['body']?.['source'] === 'fs.open' && e['body']['data']['file'] === '/etc/hostname'),
    'fs.open of /etc/hostname',
  );
  assert.ok(
    events.some((e) => e['info']?.['process']?.['libscopever'] === version),
    'libscope says its version',
  );
  // the library preloaded is the installed package's, not this checkout's
  const preload = run(bin('scope'), ['run', '--no-stream', '--', 'sh', '-c', 'echo "$LD_PRELOAD"'], { env });
  assert.is(preload.status, 0, preload.stderr);
  assert.ok(preload.stdout.trim().startsWith(join(prefix, 'lib', 'node_modules')), preload.stdout);
  assert.ok(preload.stdout.includes('/prebuilds/linux-x64/libscope.so'), preload.stdout);
});

test('the installed scope-run streams into the installed scope-events', () => {
  const env = cleanEnv({ SCOPE_HOME: join(work, 'home-pipe') });
  const r = run('sh', ['-c', `'${bin('scope-run')}' -- cat /etc/hostname 2>/dev/null | '${bin('scope-events')}' --match fs.open`], { env });
  assert.is(r.status, 0, r.stderr);
  const lines = parseLines(r.stdout);
  assert.ok(lines.length > 0, 'some fs.open events');
  assert.ok(
    lines.every((e) => e['body']['source'] === 'fs.open'),
    r.stdout,
  );
  assert.ok(
    lines.some((e) => e['body']['data']['file'] === '/etc/hostname'),
    r.stdout,
  );
});

test('the installed scope attaches to a running process and detaches', async () => {
  const env = cleanEnv({ SCOPE_HOME: join(work, 'home-attach') });
  const target = spawn(join(testProgramDir, 'attach_fsloop'), ['/etc/hostname'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve) => target.stdout.once('data', () => resolve()));
    const a = run(bin('scope'), ['attach', String(target.pid)], { env, timeout: 60_000 });
    assert.is(a.status, 0, a.stderr);
    const status = JSON.parse(a.stdout) as Record<string, any>;
    assert.is(status['ok'], true);
    const events = join(String(status['session']), 'events.json');
    const until = Date.now() + 10_000;
    while (!(existsSync(events) && readFileSync(events, 'utf8').includes('"fs.open"')) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const d = run(bin('scope'), ['detach', String(target.pid)], { env, timeout: 60_000 });
    assert.is(d.status, 0, d.stderr);
    assert.ok(parseLines(readFileSync(events, 'utf8')).some((e) => e['body']?.['source'] === 'fs.open' && e['body']['data']['file'] === '/etc/hostname'));
  } finally {
    const gone = new Promise((resolve) => target.once('exit', resolve));
    target.kill('SIGKILL');
    await gone;
    // a killed process leaves its control socket file (libscope/src/control/control.c): removed here
    const uid = process.getuid?.() ?? 0;
    rmSync(`/tmp/scope-${uid}/ctl.${target.pid}`, { force: true });
    try {
      rmdirSync(`/tmp/scope-${uid}`);
    } catch {
      // another process's socket is there
    }
  }
});

test('libscope is built from the package sources where no prebuilt binaries fit, or says what is missing', () => {
  const lib = dirname(
    dirname(
      dirname(
        run(process.execPath, ['-e', 'console.log(require.resolve("@scope/libscope"))'], {
          cwd: join(prefix, 'lib', 'node_modules', '@scope', 'scope'),
        }).stdout.trim(),
      ),
    ),
  );
  assert.ok(existsSync(join(lib, 'prebuilds')), lib);
  renameSync(join(lib, 'prebuilds'), join(lib, 'prebuilds.away'));
  // without binaries: a run says what to do, and fails
  const env = cleanEnv({ SCOPE_HOME: join(work, 'home-build') });
  const none = run(bin('scope'), ['run', '--no-stream', '--', 'true'], { env });
  assert.is.not(none.status, 0);
  assert.match(none.stderr, /scripts\/install\.mjs/);
  // without cmake on PATH: the install script names it, and builds nothing
  const nodeOnly = join(work, 'node-only');
  mkdirSync(nodeOnly);
  symlinkSync(process.execPath, join(nodeOnly, 'node'));
  const bare = run(process.execPath, [join(lib, 'scripts', 'install.mjs')], { env: cleanEnv({ PATH: nodeOnly }) });
  assert.is(bare.status, 1);
  assert.match(bare.stderr, /cmake \(3\.20 or later\)/);
  assert.not.ok(existsSync(join(lib, 'build', 'Release', 'libscope.so')));
  // with them: it builds, and the installed scope uses what it built
  const built = run(process.execPath, [join(lib, 'scripts', 'install.mjs')], { timeout: 600_000 });
  assert.is(built.status, 0, built.stderr);
  for (const f of ['libscope.so', 'scope_addon.node', 'scope-exec', 'scope-supervise']) assert.ok(statSync(join(lib, 'build', 'Release', f)).size > 0, f);
  assert.not.ok(existsSync(join(lib, 'build', 'Release', 'test')), 'no test programs built');
  const r = run(bin('scope'), ['run', '--no-stream', '--', 'sh', '-c', 'echo "$LD_PRELOAD"; cat /etc/hostname >/dev/null'], { env });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.split('\n')[0], join(lib, 'build', 'Release', 'libscope.so'));
});

test.run();
