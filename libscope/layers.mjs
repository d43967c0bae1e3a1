#!/usr/bin/env node
// layers.mjs — the build's check of libscope's floors (libscope/README.md, "The libc layer and the
// layer check"), run by CMake after the scope target links, over its objects:
//   (a) no object references a name interpose.def lists (but interpose/hooks.c, whose table takes
//       the wrappers' addresses): preloaded, such a name is our own exported wrapper, attached it is
//       libc's; our own code, the wrappers' included, calls scope_real_<name> (libc/libc.h) or
//       makes the system call;
//   (b) objects in proto/ and util/ reference nothing defined by libscope objects outside proto/
//       and util/: parsers and helpers stand alone (the fuzz targets and test drivers link them
//       without the rest);
//   (c) objects in report/ and dest/ reference nothing defined in interpose/: the reporting
//       thread stands below the wrappers;
//   (d) no object but libc/errtext.c references strerror, strerror_r, strerror_l, gai_strerror,
//       strsignal or perror: they translate through gettext, which reads the environment the app
//       may be rewriting on another thread; scope_strerror and scope_gai_strerror (libc/libc.h) do not.
// An object's folder is the directory it sits in (CMake mirrors src/: …/src/report/ident.c.o).
// Objects named in the allow-list file (one `folder/file.c` a line, # comments) are not checked.
//
//   node layers.mjs --def src/interpose/interpose.def [--allow layers-allow.txt] [--nm nm] OBJ…
// Exit 0: clean; 1: a violation (each on stderr, with what to use instead); 2: bad invocation.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const NAME = 'libscope layers';

function usage(msg) {
  process.stderr.write(`${NAME}: ${msg}\nusage: node layers.mjs --def interpose.def [--allow FILE] [--nm NM] OBJECT…\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { def: '', allow: '', nm: 'nm', objects: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--def' || a === '--allow' || a === '--nm') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    } else if (a.startsWith('--')) {
      usage(`unknown option ${a}`);
    } else {
      // CMake may hand $<TARGET_OBJECTS:…> as one ;-separated list
      opts.objects.push(...a.split(';').filter(Boolean));
    }
  }
  if (!opts.def) usage('--def (interpose/interpose.def) is required');
  if (opts.objects.length === 0) usage('no object files given');
  return opts;
}

function readText(path, what) {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    usage(`cannot read ${what} ${path}: ${e.code ?? e.message}`);
  }
}

/** The function names of interpose.def's SCOPE_FN rows. */
export function defNames(text) {
  const names = new Set();
  for (const m of text.matchAll(/^SCOPE_FN\(.*?,\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*\(/gm)) names.add(m[1]);
  return names;
}

/** folder/file.c entries of the allow-list. */
function allowList(text) {
  const set = new Set();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line) set.add(line);
  }
  return set;
}

/** folder/file.c.o as the messages name it, and the folder alone. */
function place(obj) {
  const folder = basename(dirname(obj));
  return { folder, name: `${folder}/${basename(obj)}`, src: `${folder}/${basename(obj).replace(/\.o(bj)?$/, '')}` };
}

/** nm -P -A over the objects: file → [{ sym, type }]. */
function nmTable(nm, objects, extra) {
  let out;
  try {
    out = execFileSync(nm, ['-P', '-A', ...extra, ...objects], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const why = e.code === 'ENOENT' ? `${nm} not found` : e.stderr?.toString().trim() || e.message;
    process.stderr.write(`${NAME}: ${nm} failed over the objects: ${why}\n`);
    process.exit(2);
  }
  const rows = [];
  for (const line of out.split('\n')) {
    const at = line.lastIndexOf(': ');
    if (at < 0) continue;
    const [sym, type] = line.slice(at + 2).split(' ');
    if (sym && type) rows.push({ file: line.slice(0, at), sym, type });
  }
  return rows;
}

const STANDALONE = new Set(['proto', 'util']);
const HOOK_TABLE = 'interpose/hooks.c'; // &name of every wrapper: addresses, not calls
const BELOW_WRAPPERS = new Set(['report', 'dest']);
const ERRTEXT = 'libc/errtext.c';
const TRANSLATING = {
  strerror: 'scope_strerror',
  strerror_r: 'scope_strerror',
  __xpg_strerror_r: 'scope_strerror',
  strerror_l: 'scope_strerror',
  gai_strerror: 'scope_gai_strerror',
  strsignal: 'a text of its own',
  perror: 'scope_log with scope_strerror',
};
const SYS_STAT = { stat: 'scope_sys_stat', lstat: 'scope_sys_lstat', fstat: 'scope_sys_fstat' };

function insteadOfLibc(sym) {
  if (SYS_STAT[sym]) return `${SYS_STAT[sym]} (libc/libc.h: a system call, since glibc before 2.33 exports no ${sym})`;
  return `scope_real_${sym} (libc/libc.h)`;
}

export function check({ def, allow, nm, objects }) {
  const interposed = defNames(readText(def, 'the function table'));
  if (interposed.size === 0) usage(`${def} lists no SCOPE_FN rows`);
  const allowed = allow ? allowList(readText(allow, 'the allow-list')) : new Set();
  const checked = objects.filter((o) => !allowed.has(place(o).src));

  const definedBy = new Map(); // global symbol → object defining it
  for (const r of nmTable(nm, objects, ['--defined-only'])) if (/[A-Z]/.test(r.type) && !definedBy.has(r.sym)) definedBy.set(r.sym, r.file);

  const problems = [];
  for (const r of checked.length ? nmTable(nm, checked, ['--undefined-only']) : []) {
    const me = place(r.file);
    if (me.src !== HOOK_TABLE && interposed.has(r.sym)) {
      problems.push(`${me.name}: calls ${r.sym}, an interposed name (interpose/interpose.def: preloaded, our own ` + `wrapper); use ${insteadOfLibc(r.sym)}`);
      continue;
    }
    if (me.src !== ERRTEXT && Object.hasOwn(TRANSLATING, r.sym)) {
      problems.push(
        `${me.name}: calls ${r.sym}, which translates through gettext and reads the environment ` + `(another thread of the app may be rewriting it); use ${TRANSLATING[r.sym]} (libc/errtext.c)`,
      );
      continue;
    }
    const owner = definedBy.get(r.sym);
    if (!owner) continue; // libc, the loader, the sanitizer runtime
    const them = place(owner);
    if (STANDALONE.has(me.folder) && !STANDALONE.has(them.folder))
      problems.push(`${me.name}: uses ${r.sym}, defined in ${them.name}: proto/ and util/ stand on nothing else of ` + `libscope; pass it in as an argument or move it into proto/ or util/`);
    else if (BELOW_WRAPPERS.has(me.folder) && them.folder === 'interpose')
      problems.push(
        `${me.name}: uses ${r.sym}, defined in ${them.name}: report/ and dest/ stand below the ` +
          `interposition layer; move ${r.sym} to the subsystem that owns it (libc/, record/, config/) and use it there`,
      );
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/layers.mjs')) {
  const problems = check(parseArgs(process.argv.slice(2)));
  if (problems.length) {
    for (const p of problems) process.stderr.write(`${NAME}: ${p}\n`);
    process.stderr.write(`${NAME}: ${problems.length} violation${problems.length === 1 ? '' : 's'} (libscope/README.md, "The libc layer and the layer check")\n`);
    process.exit(1);
  }
}
