// layers.mjs, the build's check of libscope's floors: the objects of the library under test pass
// (build/Release, or build/sanitize when test/sanitize.sh points SCOPE_LIB_PATH there), and objects
// compiled here that break a rule fail it, named with the symbol and what to use instead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@scope/core/testing';
import { LIB } from './lib.js';

const here = fileURLToPath(new URL('../..', import.meta.url)); // libscope/
const script = join(here, 'layers.mjs');
const def = join(here, 'src/interpose/interpose.def');
const allow = join(here, 'layers-allow.txt');
// the objects of the build LIB came from (<build>/Release/libscope.so → <build>/CMakeFiles/
// scope.dir/src/<folder>/<file>.c.o), one per source of src/ as CMake globs them: not whatever an
// old source left behind there
const objDir = join(dirname(dirname(LIB)), 'CMakeFiles/scope.dir');
const objects = (readdirSync(join(here, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.c')).map((f) => join(objDir, 'src', `${f}.o`));

function layers(objs: string[], allowFile = allow) {
  const r = spawnSync(process.execPath, [script, '--def', def, '--allow', allowFile, ...objs], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const work = tempDir('layers-');
/** source compiled into <work>/<folder>/<name>.c.o, as CMake places an object of src/<folder>/. */
function object(folder: string, name: string, source: string): string {
  const dir = join(work, 'src', folder);
  mkdirSync(dir, { recursive: true });
  const c = join(dir, `${name}.c`);
  writeFileSync(c, source);
  const o = `${c}.o`;
  const r = spawnSync('cc', ['-c', '-O0', '-fPIC', '-o', o, c], { encoding: 'utf8' });
  assert.is(r.status, 0, `cc ${c}: ${r.stderr}`);
  return o;
}

const OPENER = '#include <fcntl.h>\nint opener(const char *p) { return open(p, O_RDONLY); }\n';

test('the library under test has its objects in every folder, and they pass', () => {
  for (const folder of ['libc', 'interpose', 'record', 'proto', 'util', 'report', 'dest', 'control', 'crash', 'config'])
    assert.ok(
      objects.some((o) => o.includes(`/src/${folder}/`)),
      `no source in src/${folder}/`,
    );
  for (const o of objects) assert.ok(existsSync(o), `${o} missing: is ${LIB} built?`);
  const r = layers(objects);
  assert.is(r.stderr, '');
  assert.is(r.status, 0);
});

test('a report/ object calling open fails, named with scope_real_open', () => {
  const r = layers([...objects, object('report', 'opener', OPENER)]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /report\/opener\.c\.o: calls open, an interposed name .*use scope_real_open \(libc\/libc\.h\)/);
  assert.match(r.stderr, /1 violation\b/);
});

test('in interpose/ too a call goes through the real pointer; only the hook table names the wrappers (by address); an allow-listed object is not checked', () => {
  const inside = layers([...objects, object('interpose', 'opener', OPENER)]);
  assert.is(inside.status, 1);
  assert.match(inside.stderr, /interpose\/opener\.c\.o: calls open, an interposed name/);
  const table = object('interpose', 'hooks', '#include <fcntl.h>\nvoid *table[] = { (void *)&open };\n');
  assert.is(layers([...objects, table]).stderr, '');
  const list = join(work, 'allow.txt');
  writeFileSync(list, `${readFileSync(allow, 'utf8')}\n# not yet\nreport/opener.c\n`);
  const r = layers([...objects, object('report', 'opener', OPENER)], list);
  assert.is(r.stderr, '');
  assert.is(r.status, 0);
});

test('fstat outside interpose/ is pointed at the system call, not a pointer libc may lack', () => {
  const o = object('dest', 'sizer', '#include <sys/stat.h>\nint sizer(int fd, struct stat *st) { return fstat(fd, st); }\n');
  const r = layers([...objects, o]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /dest\/sizer\.c\.o: calls fstat, .*use scope_sys_fstat/);
});

test('a proto/ object calling a libscope function fails, named with where it lives', () => {
  const o = object('proto', 'parser', 'void scope_log(int, const char *, ...);\nvoid parse(void) { scope_log(1, "x"); }\n');
  const r = layers([...objects, o]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /proto\/parser\.c\.o: uses scope_log, defined in dest\/log\.c\.o: proto\/ and util\/ stand on nothing else/);
});

test('a report/ object using an interpose/ helper fails', () => {
  const o = object('report', 'hooker', 'void *scope_wrapper_addr(int);\nvoid *w(void) { return scope_wrapper_addr(0); }\n');
  const r = layers([...objects, o]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /report\/hooker\.c\.o: uses scope_wrapper_addr, defined in interpose\/hooks\.c\.o/);
});

test('strerror or gai_strerror anywhere but libc/errtext.c fails, pointed at scope_strerror (gettext reads the environment)', () => {
  const o = object('dest', 'why', '#include <string.h>\n#include <netdb.h>\n' + 'const char *why(int e) { return e > 0 ? strerror(e) : gai_strerror(e); }\n');
  const r = layers([...objects, o]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /dest\/why\.c\.o: calls strerror, which translates through gettext .*use scope_strerror/);
  assert.match(r.stderr, /dest\/why\.c\.o: calls gai_strerror, .*use scope_gai_strerror/);
  assert.ok(
    objects.some((x) => x.endsWith('/libc/errtext.c.o')),
    'errtext.c is among the objects, and passes',
  );
});

test('bad invocations say what is wrong, status 2', () => {
  let r = spawnSync(process.execPath, [script, '--def', def], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /libscope layers: no object files given/);
  r = spawnSync(process.execPath, [script, '--def', join(work, 'missing.def'), objects[0]!], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /cannot read the function table .*missing\.def: ENOENT/);
  r = spawnSync(process.execPath, [script, '--def', def, join(work, 'missing.o')], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /nm failed over the objects: .*missing\.o/);
});

test.run();
