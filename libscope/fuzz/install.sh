#!/usr/bin/env bash
# What the fuzz targets need from Debian's packages: clang (its runtime carries libFuzzer and the
# sanitizers). Installed only when missing; needs root (CI runs as root).
set -euo pipefail
if ! command -v clang >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
fi
