/**
 * The typed face of libscope's native side: where libscope.so is, and the addon's helpers.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const releaseDir = fileURLToPath(new URL('../../build/Release/', import.meta.url));

/** What an executable's ELF headers say about whether libscope can be preloaded into it. */
export type ElfInfo =
  | { elf: false }
  | {
      elf: true;
      bits: 32 | 64;
      type: 'exec' | 'dyn' | 'other';
      machine: number;
      /** Has a PT_DYNAMIC segment. */
      dynamic: boolean;
      /** The PT_INTERP path (the dynamic loader); null for a static executable. */
      interpreter: string | null;
      error?: string;
    };

interface Addon {
  elfInfo(path: string): ElfInfo;
}

let addon: Addon | undefined;
function load(): Addon {
  addon ??= require(releaseDir + 'scope_addon.node') as Addon;
  return addon;
}

/** Absolute path of the built libscope.so (SCOPE_LIB_PATH overrides, for installs elsewhere). */
export function libscopePath(env: NodeJS.ProcessEnv = process.env): string {
  return env['SCOPE_LIB_PATH'] ?? releaseDir + 'libscope.so';
}

/** True when the library file exists where libscopePath says. */
export function libscopeBuilt(env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(libscopePath(env));
}

/** Directory of the C test programs built from libscope/test/*.c. */
export const testProgramDir = releaseDir + 'test/';

/** Read an executable's ELF identity and program headers. Throws if the file cannot be opened. */
export function elfInfo(path: string): ElfInfo {
  return load().elfInfo(path);
}
