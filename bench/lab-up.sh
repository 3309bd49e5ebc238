#!/usr/bin/env bash
# Benchmark: wall time of `stretchctl lab up` for the default topology (2.5dc,
# 2 brokers per DC) and the memory of the whole lab once it is ready (sum of
# the resident set of every Kafka JVM and the WAN router). Jars are fetched
# once before timing. Usage: bench/lab-up.sh [bin] [runs]
set -euo pipefail
bin=${1:-bin/stretchctl}
runs=${2:-3}
dir=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)/lab
trap '"$bin" lab down --dir "$dir" >/dev/null 2>&1 || true' EXIT

rss_of() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

echo "run  up_seconds  lab_rss_MiB  jvm_count"
for i in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  "$bin" lab up --dir "$dir" >/dev/null 2>&1
  end=$(date +%s.%N)
  sleep 5 # let the JVMs settle after start-up
  pids=$("$bin" lab status --dir "$dir" --format json | python3 -c '
import json,sys
s=json.load(sys.stdin)
print(" ".join(str(n["pid"]) for n in s["nodes"]), s.get("routerPid",0))')
  total=0; n=0
  for p in $pids; do total=$((total + $(rss_of "$p"))); n=$((n+1)); done
  printf "%-4s %-11.1f %-12d %d\n" "$i" "$(echo "$end - $start" | bc)" $((total / 1024)) $((n - 1))
  "$bin" lab down --dir "$dir" >/dev/null
done
