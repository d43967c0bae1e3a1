#!/usr/bin/env bash
# What `npm run test:apps` needs from Debian's packages: nginx (nginx-light is enough), promtool
# (package prometheus), collectd (collectd-core, for its statsd plugin), strace, sqlite3 and git for the
# loss audits (audit*.test.ts), Go (golang-go: go.test.ts, gotls.test.ts build Go programs), a JDK (javatls.test.ts), gdb (crashgdb.test.ts), chromium (report.test.ts), zsh, fish and groff (shells.test.ts), jq (readme.test.ts), the aarch64 cross compilers and qemu-user (arm64.test.ts), elfutils (debuggers.test.ts). Each installed only
# when missing; needs root (CI runs as root).
set -euo pipefail
updated=no
install() {
  if [ "$updated" = no ]; then
    apt-get update -qq
    updated=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
if ! command -v nginx >/dev/null; then
  install nginx-light
fi
# gdb: crashgdb.test.ts stops libscope's crash handler mid-write to give it a second fault.
if ! command -v gdb >/dev/null; then
  install gdb
fi
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  install prometheus
fi
if ! command -v collectd >/dev/null; then
  install collectd-core
fi
# nats-server: scope-collect --from nats:// and scope-export --to nats:// (collect.test.ts, export.test.ts);
# prometheus (above) also gives the real server export.test.ts scrapes with.
if ! command -v nats-server >/dev/null; then
  install nats-server
fi
# strace, sqlite3 and git: the loss audits (audit*.test.ts) compare scope's records with strace's.
if ! command -v strace >/dev/null; then
  install strace
fi
if ! command -v sqlite3 >/dev/null; then
  install sqlite3
fi
if ! command -v git >/dev/null; then
  install git
fi
# go: apps/go.test.ts and apps/gotls.test.ts build Go programs.
if ! command -v go >/dev/null; then
  install golang-go
fi
# javac and keytool: apps/javatls.test.ts compiles a Java program and makes its key store (the JDK
# whose jvmti.h libscope's Java agent is built with is the same package: install it before npm ci).
if ! command -v javac >/dev/null || ! command -v keytool >/dev/null; then
  install openjdk-17-jdk-headless
fi
# chromium: apps/report.test.ts opens scope report's HTML page in a real browser (headless).
if ! command -v chromium >/dev/null; then
  install chromium
fi
# zsh, fish and groff: apps/shells.test.ts runs scope's zsh and fish completions in those shells and
# its man pages through groff.
if ! command -v zsh >/dev/null; then
  install zsh
fi
if ! command -v fish >/dev/null; then
  install fish
fi
if ! command -v groff >/dev/null; then
  install groff-base
fi
# jq: apps/readme.test.ts runs the README's recipes, which pipe into jq.
if ! command -v jq >/dev/null; then
  install jq
fi
# The aarch64 cross compilers and qemu's user-mode emulator: apps/arm64.test.ts builds libscope for
# linux-arm64 (npm run build:arm64) and runs a program under it with qemu-aarch64.
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
fi
# eu-stack (elfutils): apps/debuggers.test.ts takes scope-snapshot's backtraces with it alone (gdb above).
if ! command -v eu-stack >/dev/null; then
  install elfutils
fi
