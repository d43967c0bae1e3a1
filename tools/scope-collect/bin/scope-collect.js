#!/usr/bin/env node
// The tool is loaded through @scope/core/launch, so that a failure to load it (ulimit -n too low,
// a broken install) is one line saying what is wrong, not Node's trace.
import('@scope/core/launch').then(
  (m) => m.launch('scope-collect', () => import('../dist/src/cli.js')),
  (err) => {
    const why = err?.code === 'EMFILE' || err?.code === 'ENFILE' ? 'too many open files' : String(err?.message ?? err).split('\n')[0];
    process.stderr.write(`scope-collect: cannot load @scope/core (${why}); if ulimit -n is low, raise it (ulimit -n 1024)\n`);
    process.exit(1);
  },
);
