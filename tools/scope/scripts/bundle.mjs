#!/usr/bin/env node
/**
 * Builds dist/scope.bundle.js: the `scope` umbrella and what `scope run` loads before its command
 * starts (this package's dist, @scope/scope-run's, the part of @scope/core they import, citty,
 * @scope/libscope's index, whose addon is loaded by require and so shared with other importers) in
 * one script, so that Node resolves, reads and compiles one file instead of about twenty-five ES
 * modules (each cost `scope run -- true` about a millisecond on a 2-CPU machine). Run by `npm run
 * build` after tsc, so `npm ci` makes it.
 *
 * How: each module of tsc's output is turned into a CommonJS function by TypeScript's own
 * transpiler (already a devDependency: no bundler is added), and the functions are put in one
 * script, dist/scope.script.js, with a small loader. What the bundle leaves outside, imported as the
 * real modules:
 *
 * - @scope/core's errors.js, fdlimit.js, home.js and version.js: the error classes other packages
 *   throw must be the ones runTool tests with instanceof, and the open-file limit is read once, by
 *   launch.ts, before the tool loads;
 * - every other package (the other verbs, @scope/scope-filter) and the modules imported only on
 *   demand (streaming, yaml, split2): imported as before, when needed;
 * - Node's own modules.
 *
 * dist/scope.bundle.js is the ES module the bin loads: it imports those modules, reads the script
 * and compiles it with V8's code cache, dist/scope.script.cache, made here by running `scope run
 * --no-stream -- true` once (in a temporary SCOPE_HOME) and keeping what V8 compiled by its end, so
 * that a run neither parses the script nor compiles the functions it calls (about 6 ms of every
 * `scope run`). The cache is only read at run time, never written: a read-only install or another
 * user's works as it is. It is used only when it was made from this very script (its first line
 * names the build, the script's size and SHA-256; an edited script is compiled as if there were no
 * cache; the files' times are not part of it, since npm does not keep them at install), is owned by the script's owner and writable by no one else (it is
 * compiled code), and V8 accepts it (same V8, same flags); otherwise the script is compiled from
 * its source, as without a cache.
 *
 * The script is ASCII (comments dropped, other characters escaped), so Node reads it into a
 * one-byte string, half the memory of a two-byte one.
 *
 * Each bundled module keeps its own import.meta.url (the URL of its file under dist/), so what it
 * resolves from there resolves as before. No path between packages is written into the bundle: each
 * bundled directory is found at run time by resolving a package name from this package (ANCHORS),
 * so the bundle works wherever npm puts the packages it depends on. An import cycle among the bundled modules fails the
 * build: CommonJS evaluation would differ from ES modules' there.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const out = join(pkg, 'dist', 'scope.bundle.js');
const scriptOut = join(pkg, 'dist', 'scope.script.js');
const cacheOut = join(pkg, 'dist', 'scope.script.cache');
const entry = realpathSync(join(pkg, 'dist', 'src', 'cli.js'));
const require = createRequire(import.meta.url);
const real = (p) => realpathSync(p);

/**
 * Directories whose modules go into the bundle, each named by what resolves to a file in it from this
 * package (its own dist/src: null). The loader finds them the same way at run time, so the bundle
 * holds no path between packages: installed by npm, they are wherever npm put them (nested under
 * this package, or beside it in a global prefix).
 */
const ANCHORS = [null, '@scope/scope-run', '@scope/core/run-api', 'citty', '@scope/libscope'];
const fromHere = createRequire(out);
/** This package's dependencies: what resolves from here once installed. */
const declared = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies ?? {};
/** The package a specifier names: `@scope/core/run-api` → `@scope/core`, `citty` → `citty`. */
const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const inside = ANCHORS.map((spec) => (spec === null ? join(pkg, 'dist', 'src') : dirname(real(fromHere.resolve(spec)))) + sep);
// every anchor a dependency of this package's, so that it resolves from here once installed
for (const spec of ANCHORS) {
  if (spec !== null && !(packageOf(spec) in declared)) throw new Error(`${packageOf(spec)}: bundled, so it must be a dependency of ${join(pkg, 'package.json')}`);
}
const coreDir = dirname(real(require.resolve('@scope/core/run-api')));
/** Kept as the real modules (see above). */
const shared = new Set(['errors.js', 'fdlimit.js', 'home.js', 'version.js'].map((f) => join(coreDir, f)));
/** Loaded on demand by a bundled module, and bundled too: `scope run` itself. */
const bundledOnDemand = new Set([real(require.resolve('@scope/scope-run'))]);

const isBundled = (file) => !shared.has(file) && inside.some((d) => file.startsWith(d)) && /\.m?js$/.test(file);

/** Where `spec`, imported by `from`, resolves: a file, or a builtin's name. */
function resolve(spec, from) {
  if (spec.startsWith('node:')) return { builtin: spec };
  const r = createRequire(from).resolve(spec);
  if (!r.startsWith('/')) return { builtin: spec.startsWith('node:') ? spec : `node:${spec}` };
  return { file: real(r) };
}

/** Where a file of the bundled directories is: [anchor index, its path below that directory]. */
const place = (file) => {
  const i = inside.findIndex((d) => file.startsWith(d));
  if (i < 0) throw new Error(`${file}: outside the bundled directories, so the bundle cannot name it once installed`);
  return [i, relative(inside[i], file).split(sep).join('/')];
};

const modules = new Map(); // file → { id, code, requires: Map<spec, target>, async }
const externals = new Map(); // file → index (statically imported by the loader)
const order = [];

function transpile(file, isEntry) {
  let source = readFileSync(file, 'utf8');
  // dynamic import() and import.meta.url, before TypeScript turns import() into require()
  source = source.replace(/(?<![\w$.])import\s*\(/g, '__import(').replace(/\bimport\.meta\.url\b/g, '__importMetaUrl');
  if (/\bimport\.meta\b/.test(source)) throw new Error(`${file}: import.meta other than import.meta.url is not handled`);
  // An ES module may name a binding of its own `require` (createRequire's): renamed, since the
  // transpiled module's require() calls are the bundle's. In an ES module the name means nothing else.
  if (/^(?:const|let|var)\s+require\b/m.test(source)) source = source.replace(/(?<![\w$.])require\b/g, '__ownRequire');
  const { outputText } = ts.transpileModule(source, {
    fileName: file.replace(/\.mjs$/, '.js'),
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true, sourceMap: false, removeComments: true },
    reportDiagnostics: false,
  });
  void isEntry; // a top-level await outside the entry is a syntax error in the bundle: node --check below
  return outputText;
}

function add(file, isEntry = false) {
  if (modules.has(file)) return modules.get(file);
  const m = { id: modules.size, file, code: '', requires: new Map(), imports: new Map(), isEntry };
  modules.set(file, m);
  m.code = transpile(file, isEntry);
  for (const [, spec] of m.code.matchAll(/\brequire\("([^"]+)"\)/g)) {
    if (m.requires.has(spec)) continue;
    const r = resolve(spec, file);
    if (r.builtin) m.requires.set(spec, { builtin: r.builtin });
    else if (isBundled(r.file)) m.requires.set(spec, { module: add(r.file) });
    else {
      // an ES module's namespace is not what TypeScript's default-import helper expects
      if (m.code.includes(`__importDefault(require("${spec}"))`)) throw new Error(`${file}: default import of ${spec}, kept outside the bundle, is not handled`);
      m.requires.set(spec, { external: externalIndex(r.file) });
    }
  }
  for (const [, quote, spec] of m.code.matchAll(/__import\((['"`])([^'"`]+)\1\)/g)) {
    void quote;
    if (m.imports.has(spec)) continue;
    let r;
    try {
      r = resolve(spec, file);
    } catch {
      r = null; // not built: left to Node at run time, from the module's own place
    }
    if (r?.file && bundledOnDemand.has(r.file)) m.imports.set(spec, { module: add(r.file) });
    else if (r?.file && modules.has(r.file)) m.imports.set(spec, { module: modules.get(r.file) });
    else if (r?.builtin || !/^[./]/.test(spec)) {
      // a builtin, or a package: imported by its name from this package's place at run time, which
      // resolves to the same file only if this package depends on it
      if (!r?.builtin && !(packageOf(spec) in declared)) throw new Error(`${file}: import("${spec}") needs ${packageOf(spec)} as a dependency of ${join(pkg, 'package.json')}`);
      m.imports.set(spec, { url: r?.builtin ?? spec });
    } else if (r?.file) m.imports.set(spec, { place: place(r.file) });
    else throw new Error(`${file}: import("${spec}") does not resolve`);
  }
  if (/__import\((?!['"`])/.test(m.code)) throw new Error(`${file}: import() of a computed specifier is not handled`);
  order.push(m);
  return m;
}

function externalIndex(file) {
  if (!externals.has(file)) externals.set(file, externals.size);
  return externals.get(file);
}

const top = add(entry, true);

// An import cycle would be evaluated differently (CommonJS hands out unfinished exports).
const state = new Map();
function visit(m, path) {
  if (state.get(m) === 'done') return;
  if (state.get(m) === 'open') throw new Error(`import cycle: ${[...path, m].map((x) => relative(pkg, x.file)).join(' → ')}`);
  state.set(m, 'open');
  for (const t of m.requires.values()) if (t.module) visit(t.module, [...path, m]);
  state.set(m, 'done');
}
for (const m of order) visit(m, []);

/** Non-ASCII characters as \u escapes: the same string, regular expression or template (cooked) value. */
const ascii = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const lines = [];
// strict, as the ES modules it stands for (each transpiled module also says so)
lines.push('(async function (__externals, __nodeRequire, __base, __hostImport) {');
lines.push("'use strict';");
lines.push('const __cache = [];');
lines.push('const __defs = [];');
lines.push(`function __load(id) {
  const cached = __cache[id];
  if (cached !== undefined) return cached.exports;
  const module = (__cache[id] = { exports: {} });
  __defs[id](module);
  return module.exports;
}
const __requireFor = (table) => (spec) => {
  const t = table[spec];
  if (t[0] === 'm') return __load(Number(t.slice(2)));
  if (t[0] === 'e') return __externals[Number(t.slice(2))];
  return __nodeRequire(t.slice(2));
};
const __importFor = (table) => (spec) => {
  const t = table[spec];
  if (t[0] === 'm') return Promise.resolve().then(() => __load(Number(t.slice(2))));
  if (t[0] === 'p') return __hostImport(new URL(t.slice(t.indexOf(':', 2) + 1), __base(Number(t.slice(2, t.indexOf(':', 2))))).href);
  return __hostImport(t.slice(2));
};`);
for (const m of order) {
  const table = Object.fromEntries([...m.requires].map(([spec, t]) => [spec, t.builtin ? `b:${t.builtin}` : t.module ? `m:${t.module.id}` : `e:${t.external}`]));
  const dyn = Object.fromEntries([...m.imports].map(([spec, t]) => [spec, t.module ? `m:${t.module.id}` : t.place ? `p:${t.place[0]}:${t.place[1]}` : `u:${t.url}`]));
  const [anchor, path] = place(m.file);
  const url = `new URL(${JSON.stringify(path)}, __base(${anchor})).href`;
  const code = m.code.replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  lines.push(
    `// ${relative(join(pkg, '..', '..'), m.file)
      .split(sep)
      .join('/')}`,
  );
  lines.push(`__defs[${m.id}] = ${m.isEntry ? 'async ' : ''}(module) => {
  const exports = module.exports;
  const require = __requireFor(${JSON.stringify(table)});
  const __import = __importFor(${JSON.stringify(dyn)});
  const __importMetaUrl = ${/__importMetaUrl/.test(code) ? url : 'undefined'};
  return ${m.isEntry ? 'await (async () => {' : '(() => {'}
${code}
  })();
};`);
}
lines.push(`await __defs[${top.id}]({ exports: {} });`);
lines.push('})');
const body = ascii(lines.join('\n') + '\n');
// The first line names the build: the loader takes a cache made from this script only.
const build = createHash('sha256').update(body).digest('hex').slice(0, 32);
const script = `// Generated by tools/scope/scripts/bundle.mjs (npm run build): do not edit. Build ${build}.\n${body}`;

// The loader: an ES module (the bin imports it), so that the modules left outside are the real ones.
const loader = `// Generated by tools/scope/scripts/bundle.mjs (npm run build): do not edit. See that file for what it holds.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const BUILD = '${build}';
const require = createRequire(import.meta.url);
/** The bundled directories, each found by what resolves to a file in it (bundle.mjs, ANCHORS). */
const ANCHORS = ${JSON.stringify(ANCHORS)};
const bases = [];
const base = (i) =>
  (bases[i] ??= ANCHORS[i] === null ? new URL('./src/', import.meta.url).href : pathToFileURL(dirname(require.resolve(ANCHORS[i]))).href + '/');
/** The modules left outside the bundle: [anchor index, path below it]. */
const EXTERNALS = ${JSON.stringify([...externals.keys()].map(place))};
const scriptFile = fileURLToPath(new URL('./scope.script.js', import.meta.url));
const cacheFile = fileURLToPath(new URL('./scope.script.cache', import.meta.url));

/** A file's bytes and status, read through one descriptor. */
function readWithStat(file) {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    const buf = Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    return { buf: buf.subarray(0, n), st };
  } finally {
    closeSync(fd);
  }
}

/**
 * The header line of a cache made from the script with these bytes: its build, size and SHA-256 (about
 * 0.1 ms), so that a cache is used with the very script it was made from, whatever the files' times
 * (npm does not keep them when it installs a package).
 */
export const cacheHeader = (buf) => \`scope-script-cache \${BUILD} \${buf.length} \${createHash('sha256').update(buf).digest('hex')}\\n\`;

/** V8's code cache for the script, when it was made from this script and is to be trusted; else undefined. */
function cachedDataFor(buf, st) {
  let cache;
  try {
    cache = readWithStat(cacheFile);
  } catch {
    return undefined; // none: compiled from the source
  }
  // compiled code: no more writable than the script it stands for
  if (cache.st.uid !== st.uid || (cache.st.mode & 0o022) !== 0) return undefined;
  const header = cacheHeader(buf);
  if (cache.buf.length <= header.length || cache.buf.toString('latin1', 0, header.length) !== header) return undefined;
  return cache.buf.subarray(header.length);
}

/** Compile and run the script (it runs the tool, which exits); \`onCompiled\` sees the compiled script. */
export async function start(onCompiled) {
  const { buf, st } = readWithStat(scriptFile);
  const source = buf.toString('latin1'); // ASCII
  const script = new Script(source, { filename: scriptFile, cachedData: cachedDataFor(buf, st) });
  onCompiled?.(script, buf);
  const run = script.runInThisContext();
  const externals = await Promise.all(EXTERNALS.map(([i, path]) => import(new URL(path, base(i)).href)));
  await run(externals, require, base, (spec) => import(spec));
}
`;

writeFileSync(scriptOut, script);
writeFileSync(out, loader);
for (const file of [out]) {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`${file} does not parse:\n${check.stderr}`);
}
{
  const check = spawnSync(process.execPath, ['-e', 'new (require("vm").Script)(require("fs").readFileSync(process.argv[1], "latin1"))', scriptOut], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`${scriptOut} does not parse:\n${check.stderr}`);
}

/*
 * The code cache: `scope run --no-stream -- true` run once through the loader, in a SCOPE_HOME of
 * its own (removed after), and what V8 compiled by its exit written out. Without libscope built the
 * run stops early, and the cache holds what was compiled until then. A failure here leaves no cache
 * (the script is then compiled at each run, as it would be with a stale one).
 */
rmSync(cacheOut, { force: true });
const home = mkdtempSync(join(tmpdir(), 'scope-bundle-cache-'));
try {
  const make = `
    import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
    const loader = await import(${JSON.stringify(new URL(`file://${out}`).href)});
    await loader.start((script, buf) => process.on('exit', () => {
      const tmp = ${JSON.stringify(cacheOut)} + '.' + process.pid;
      const fd = openSync(tmp, 'wx', 0o644);
      writeSync(fd, loader.cacheHeader(buf));
      writeSync(fd, script.createCachedData());
      closeSync(fd);
      renameSync(tmp, ${JSON.stringify(cacheOut)});
    }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', make, '--', '-', 'run', '--no-stream', '--', 'true'], {
    cwd: home,
    env: { ...process.env, SCOPE_HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  let size = 0;
  try {
    size = statSync(cacheOut).size;
  } catch {
    // not made
  }
  process.stdout.write(
    `${relative(pkg, scriptOut)}: ${order.length} modules bundled, ${externals.size} imported as they are; ` +
      (size > 0 ? `${relative(pkg, cacheOut)}: ${size} bytes` : `no code cache (${r.stderr.trim().split('\n')[0] || `status ${r.status}`})`) +
      '\n',
  );
  if (r.status !== 0) process.stderr.write(`note: the run that made the code cache said: ${r.stderr.trim().split('\n')[0]}\n`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
