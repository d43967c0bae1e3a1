#!/usr/bin/env bash
# What `npm run test:apps` needs from Debian's packages: nginx (nginx-light is enough). Installed only
# when missing; needs root (CI runs as root).
set -euo pipefail
if ! command -v nginx >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
