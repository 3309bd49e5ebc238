#!/usr/bin/env bash
# Installs the system packages stretchctl's tests and lab need, when missing:
# Java 17+ and Maven (Kafka runs from Maven Central jars). Debian/Ubuntu only;
# elsewhere it says what to install.
set -euo pipefail
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn  >/dev/null 2>&1 || missing+=(maven)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
  echo "please install: ${missing[*]} (Java 17+ and Maven)" >&2
  exit 1
fi
