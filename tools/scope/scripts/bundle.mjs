#!/usr/bin/env node
/**
 * Builds dist/scope.bundle.js: the `scope` umbrella and what `scope run` loads before its command
 * starts (this package's dist, @scope/scope-run's, the part of @scope/core they import, citty) in
 * one file, so that Node's ES module loader resolves, reads and links one module instead of about
 * twenty-five (each cost `scope run -- true` about a millisecond on a 2-CPU machine). Run by
 * `npm run build` after tsc, so `npm ci` makes it.
 *
 * How: each module of tsc's output is turned into a CommonJS function by TypeScript's own
 * transpiler (already a devDependency: no bundler is added), and the functions are put in one ES
 * module with a small loader. What the bundle leaves outside, imported as the real modules:
 *
 * - @scope/core's errors.js, fdlimit.js, home.js and version.js: the error classes other packages
 *   throw must be the ones runTool tests with instanceof, and the open-file limit is read once, by
 *   launch.ts, before the tool loads;
 * - every other package (the other verbs, @scope/scope-filter, @scope/libscope) and the modules
 *   imported only on demand (streaming, yaml, split2): imported as before, when needed;
 * - Node's own modules.
 *
 * Each bundled module keeps its own import.meta.url (the URL of its file under dist/), so what it
 * resolves from there resolves as before. An import cycle among the bundled modules fails the
 * build: CommonJS evaluation would differ from ES modules' there.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { realpathSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const out = join(pkg, 'dist', 'scope.bundle.js');
const entry = realpathSync(join(pkg, 'dist', 'src', 'cli.js'));
const require = createRequire(import.meta.url);
const real = (p) => realpathSync(p);

/** Directories whose modules go into the bundle. */
const inside = [
  join(pkg, 'dist', 'src'),
  dirname(real(require.resolve('@scope/scope-run'))),
  dirname(real(require.resolve('@scope/core/run-api'))),
  dirname(real(createRequire(real(require.resolve('@scope/core/run-api'))).resolve('citty'))),
].map((d) => d + sep);
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

const rel = (file) => {
  const r = relative(dirname(out), file).split(sep).join('/');
  return r.startsWith('.') ? r : `./${r}`;
};

const modules = new Map(); // file → { id, code, requires: Map<spec, target>, async }
const externals = new Map(); // file → index (statically imported)
const order = [];

function transpile(file, isEntry) {
  let source = readFileSync(file, 'utf8');
  // dynamic import() and import.meta.url, before TypeScript turns import() into require()
  source = source.replace(/(?<![\w$.])import\s*\(/g, '__import(').replace(/\bimport\.meta\.url\b/g, '__importMetaUrl');
  if (/\bimport\.meta\b/.test(source)) throw new Error(`${file}: import.meta other than import.meta.url is not handled`);
  const { outputText } = ts.transpileModule(source, {
    fileName: file.replace(/\.mjs$/, '.js'),
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true, sourceMap: false },
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
    else m.imports.set(spec, { url: r?.builtin ?? (r?.file ? rel(r.file) : null) ?? spec });
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

const lines = [];
lines.push('// Generated by tools/scope/scripts/bundle.mjs (npm run build): do not edit. See that file for what it holds.');
lines.push("import { createRequire as __createRequire } from 'node:module';");
for (const [file, i] of externals) lines.push(`import * as __external${i} from ${JSON.stringify(rel(file))};`);
lines.push('const __nodeRequire = __createRequire(import.meta.url);');
lines.push(`const __externals = [${[...externals.values()].map((i) => `__external${i}`).join(', ')}];`);
lines.push('const __cache = [];');
lines.push('const __defs = [];');
lines.push(`function __load(id) {
  const cached = __cache[id];
  if (cached !== undefined) return cached.exports;
  const module = (__cache[id] = { exports: {} });
  __defs[id](module);
  return module.exports;
}
/** A module's require: another bundled module (m:id), one imported as it is (e:index), or Node's own (b:name). */
const __requireFor = (table) => (spec) => {
  const t = table[spec];
  if (t[0] === 'm') return __load(Number(t.slice(2)));
  if (t[0] === 'e') return __externals[Number(t.slice(2))];
  return __nodeRequire(t.slice(2));
};
/** A module's import(): a bundled module (m:id), else Node's import of the URL it resolved to when built (u:url). */
const __importFor = (table) => (spec) => {
  const t = table[spec];
  if (t[0] === 'm') return Promise.resolve().then(() => __load(Number(t.slice(2))));
  return import(t.slice(2));
};`);
for (const m of order) {
  const table = Object.fromEntries(
    [...m.requires].map(([spec, t]) => [spec, t.builtin ? `b:${t.builtin}` : t.module ? `m:${t.module.id}` : `e:${t.external}`]),
  );
  const dyn = Object.fromEntries([...m.imports].map(([spec, t]) => [spec, t.module ? `m:${t.module.id}` : `u:${t.url}`]));
  const url = `new URL(${JSON.stringify(rel(m.file))}, import.meta.url).href`;
  const code = m.code.replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  lines.push(`// ${relative(join(pkg, '..', '..'), m.file).split(sep).join('/')}`);
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
writeFileSync(out, lines.join('\n') + '\n');
const check = spawnSync(process.execPath, ['--check', out], { encoding: 'utf8' });
if (check.status !== 0) throw new Error(`${out} does not parse:\n${check.stderr}`);
process.stdout.write(`${relative(pkg, out)}: ${order.length} modules bundled, ${externals.size} imported as they are\n`);
