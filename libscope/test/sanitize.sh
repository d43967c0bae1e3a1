#!/usr/bin/env bash
# npm run test:sanitize: libscope.so built with ASan and UBSan into build/sanitize (build/Release,
# which the normal tests use, is left alone), then the libscope tests (dist/test, uvu) run against
# it: SCOPE_LIB_PATH names it, test/lib.ts preloads the ASan runtime after it (verify_asan_link_order=0
# allows that; lib.ts says why). A sanitizer report
# in any scoped process (written under a temporary directory, LIBSCOPE_SANITIZER_LOG) fails the run
# and is printed. Leaks are checked at exit; test/lsan.supp says what is not ours.
#   npm run test:sanitize -w @scope/libscope -- '^(net|seams)\.test\.js$'   # some files only
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/build/sanitize"
runtime=$(gcc -print-file-name=libasan.so)
if [ ! -e "$runtime" ]; then
  echo "test:sanitize: gcc has no ASan runtime ($runtime; Debian: apt-get install libgcc-12-dev)" >&2
  exit 2
fi
[ -d "$here/dist/test" ] || { echo "test:sanitize: dist/test missing (run npm run build first)" >&2; exit 2; }
cmake -S "$here" -B "$out" -DSCOPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Release --log-level=ERROR >/dev/null
# scope-supervise beside the library: exec wrappers look for it there (interpose/supexec.c)
make -C "$out" -j"$(nproc)" --no-print-directory -s scope scope_supervise
logs=$(mktemp -d "${TMPDIR:-/tmp}/scope-sanitize-XXXXXX")
trap 'rm -rf "$logs"' EXIT
export SCOPE_LIB_PATH="$out/Release/libscope.so"
export LIBSCOPE_SANITIZER_LOG="$logs/report"
# leak_check_at_exit stays on: every scoped process is checked when it exits; the observed
# programs' own leaks (and the few of ours that are by design) are in lsan.supp.
# The deadly signals stay the app's and libscope's (the crash tests make them on purpose; a fault of
# ours fails its test through libscope's crash handling or the default action).
# The symbolizer the runtime starts to match leaks against lsan.supp inherits LD_PRELOAD: it would
# be sanitized and scoped itself, leak, start a symbolizer of its own, and so on (a python3 that is
# a pyenv shell script never got to its end). It runs without the preload.
mkdir "$logs/bin"
printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$(command -v addr2line)" > "$logs/bin/addr2line"
chmod +x "$logs/bin/addr2line"
# SCOPE_SANITIZE_LEAKS=0 turns the exit-time leak check off.
leaks=${SCOPE_SANITIZE_LEAKS:-1}
export ASAN_OPTIONS="detect_leaks=$leaks:verify_asan_link_order=0:external_symbolizer_path=$logs/bin/addr2line:abort_on_error=1:allocator_may_return_null=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0"
export LSAN_OPTIONS="suppressions=$here/test/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
pattern=${1:-'\.test\.js$'}
status=0
(cd "$here" && npx uvu dist/test "$pattern") || status=$?
# A report file is created (empty) by some processes that report nothing: only content counts.
# One warning is not a finding: "Running thread N was not suspended. False leaks are possible.",
# from a forked child's exit-time leak check. gcc 12's runtime keeps the parent's threads in a
# forked child's thread list (newer runtimes drop them at fork), so the child's check names a
# thread that does not exist in it. A file with that line only is counted and said; any other
# line in it (a leak found, false or not) still fails the run.
reports=()
forked=0
for f in "$logs"/report.*; do
  [ -s "$f" ] || continue
  if ! grep -qvE '^==[0-9]+==Running thread [0-9]+ was not suspended\. False leaks are possible\.$' "$f"; then
    forked=$((forked + 1))
    continue
  fi
  reports+=("$f")
done
[ "$forked" = 0 ] || echo "test:sanitize: $forked forked processes warned of their parent's threads in the leak check (gcc 12's runtime: not a finding)"
if [ ${#reports[@]} -gt 0 ]; then
  for f in "${reports[@]}"; do
    echo "=== sanitizer report ${f##*/} ===" >&2
    cat "$f" >&2
  done
  echo "test:sanitize: ${#reports[@]} sanitizer report(s)" >&2
  exit 1
fi
[ "$status" = 0 ] || { echo "test:sanitize: tests failed (status $status)" >&2; exit "$status"; }
echo "test:sanitize: no sanitizer report"
