#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for FUZZ_SECONDS each (default 20), starting from its
# corpus in fuzz/corpus/<name>. What libFuzzer finds new goes to a scratch directory (the
# repository's corpus stays small and hand-picked; FUZZ_KEEP=1 adds the new inputs to it); a crash
# leaves its input in FUZZ_ARTIFACTS (default libscope/build/fuzz/crashes) and fails the run.
#   FUZZ_SECONDS=600 npm run fuzz -w @scope/libscope -- h2 hpack
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../build/fuzz"
secs=${FUZZ_SECONDS:-20}
artifacts=${FUZZ_ARTIFACTS:-"$out/crashes"}
"$here/build.sh" "$out"
mkdir -p "$artifacts"
if [ $# -gt 0 ]; then names=("$@"); else mapfile -t names < <(grep -v '^#' "$here/targets.txt" | awk 'NF {print $1}'); fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for name in "${names[@]}"; do
  [ -x "$out/fuzz_$name" ] || { echo "fuzz: no target $name" >&2; exit 2; }
  mkdir -p "$scratch/$name"
  if [ -n "${FUZZ_RUNS:-}" ]; then echo "fuzz: $name, $FUZZ_RUNS inputs from seed ${FUZZ_SEED:-1}"; else echo "fuzz: $name for ${secs}s"; fi
  # -close_fd_mask=3: the parsers print nothing; the log of libFuzzer itself stays on stderr.
  # FUZZ_RUNS (CI): a fixed number of inputs from a fixed seed, the same run on any machine, so
  # that CI is red only for a crash that anyone can reproduce; else FUZZ_SECONDS of new inputs.
  if [ -n "${FUZZ_RUNS:-}" ]; then budget=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}"); else budget=(-max_total_time="$secs"); fi
  if ! "$out/fuzz_$name" "${budget[@]}" -timeout=10 -rss_limit_mb=1024 \
      -artifact_prefix="$artifacts/${name}-" -print_final_stats=1 \
      "$scratch/$name" "$here/corpus/$name" 2>"$scratch/$name.log"; then
    tail -n 60 "$scratch/$name.log" >&2
    failed+=("$name")
  else
    grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::new_units_added)' "$scratch/$name.log" || true
  fi
  if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    "$out/fuzz_$name" -merge=1 "$here/corpus/$name" "$scratch/$name" 2>/dev/null || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs in $artifacts)" >&2
  exit 1
fi
echo "fuzz: ${#names[@]} targets, no crash"
