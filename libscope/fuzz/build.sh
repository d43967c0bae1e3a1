#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_<name>.c, listed in fuzz/targets.txt) with clang, ASan and
# UBSan into $1 (default: libscope/build/fuzz). Not part of the default build: only clang can
# build them (libFuzzer ships with clang's runtime; Debian: apt-get install clang).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../src"
out=${1:-"$here/../build/fuzz"}
CC=${CC:-clang}
if ! command -v "$CC" >/dev/null; then
  echo "fuzz: $CC not found (Debian: apt-get install -y clang)" >&2
  exit 2
fi
mkdir -p "$out"
flags=(-std=gnu11 -D_GNU_SOURCE -I"$src" -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
grep -v '^#' "$here/targets.txt" | while read -r name files; do
  [ -n "$name" ] || continue
  srcs=()
  for f in $files; do srcs+=("$src/$f"); done
  "$CC" "${flags[@]}" -o "$out/fuzz_$name" "$here/fuzz_$name.c" "${srcs[@]}" \
    "$here/stubs.c" "$src/util/json.c" -lm
done
echo "fuzz: targets built in $out"
