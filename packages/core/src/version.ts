/**
 * The version every tool reports and writes into session manifests: @scope/core's package.json's,
 * which scripts/version.mjs (the repository's root) keeps equal to every other package's and to
 * libscope's (CMakeLists.txt reads libscope's package.json).
 */
import { readFileSync } from 'node:fs';

export const SCOPE_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
