/**
 * What libscope's package scripts share: the four binaries a package carries, the CMake targets that
 * make them, and the build of just those (no test programs), for install.mjs (this machine, from the
 * package's sources) and cross.mjs (linux-arm64); prebuild.mjs copies them into prebuilds/.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const BINARIES = ['libscope.so', 'scope_addon.node', 'scope-exec', 'scope-supervise'];
const TARGETS = ['scope', 'scope_exec', 'scope_supervise', 'scope_addon'];

/** True when `cmd --version` runs. */
export const runs = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** True when every binary is in `dir`. */
export const complete = (dir) => BINARIES.every((b) => existsSync(join(dir, b)));

/** Copy the binaries from `from` into `to` (made if need be), executable. */
export function copyBinaries(from, to) {
  mkdirSync(to, { recursive: true });
  for (const b of BINARIES) {
    copyFileSync(join(from, b), join(to, b));
    chmodSync(join(to, b), 0o755);
  }
}

/**
 * Configure `build` from the package in `pkg` (Release, no test programs, the addon against
 * node-api-headers, `extra` CMake definitions) and build the four targets. Each step's output goes to
 * `output` (a step's command line and text); true when both steps succeeded.
 */
export function buildBinaries(pkg, build, extra, output) {
  const headers = createRequire(import.meta.url)('node-api-headers').include_dir;
  const steps = [
    ['-S', pkg, '-B', build, '-DCMAKE_BUILD_TYPE=Release', '-DSCOPE_BUILD_TESTS=OFF', `-DSCOPE_NODE_API_INC=${headers}`, ...extra],
    ['--build', build, '--parallel', '--target', ...TARGETS],
  ];
  for (const args of steps) {
    const r = spawnSync('cmake', args, { cwd: pkg, encoding: 'utf8', maxBuffer: 64 << 20 });
    output(`$ cmake ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`);
    if (r.status !== 0) return false;
  }
  return true;
}
