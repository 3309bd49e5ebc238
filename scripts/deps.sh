#!/usr/bin/env bash
# Installs the system packages stretchctl's tests and lab need, when missing:
# Java 17+ and Maven (Kafka runs from Maven Central jars), tmux (the TUI's
# end-to-end test drives it in a terminal). Debian/Ubuntu only;
# elsewhere it says what to install. Then builds the envtest binaries
# (scripts/envtest.sh).
set -euo pipefail
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn  >/dev/null 2>&1 || missing+=(maven)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "please install: ${missing[*]} (Java 17+, Maven, tmux)" >&2
    exit 1
  fi
fi
# kube-apiserver, etcd and the Chaos Mesh CRDs for the envtest tests, built
# from Go modules into a cache (about 7 minutes on 2 cores the first time, then nothing).
echo "envtest assets: $(bash "$(dirname "$0")/envtest.sh")"
