#!/usr/bin/env bash
# Benchmark: the cost of `stretchctl probe agent` at one probe per second
# per broker (the default --interval 1s; each probe is a TCP connect, an
# ApiVersions request, an acks=1 and an acks=all produce and their
# read-back), on the default 2.5-DC lab (4 brokers), after a warm-up.
# Prints the agent's CPU as a share of one core and its resident memory,
# read from /proc (and cross-checked with its own process_* metrics).
# Target: under 2% of one core.
# Usage: bench/probe-agent.sh [bin] [seconds]
set -euo pipefail
bin=$(realpath "${1:-bin/stretchctl}")
secs=${2:-60}
dir=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)/lab
agent=
cleanup() {
  [ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
  "$bin" lab down --dir "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$bin" lab up --dir "$dir" >/dev/null 2>&1
cfg="$dir/stretch.yaml"
"$bin" lab exec dc-a --dir "$dir" -- "$bin" probe agent --config "$cfg" --listen 127.0.0.1:9464 --quiet &
agent=$!
sleep 25 # topic creation and the first rounds
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
c0=$(cpu); t0=$(date +%s.%N)
sleep "$secs"
c1=$(cpu); t1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$agent/status")
brokers=$("$bin" lab status --dir "$dir" 2>/dev/null | grep -c "broker" || true)
pct=$(echo "($c1 - $c0) / $ticks / ($t1 - $t0) * 100" | bc -l)
printf "agent in dc-a, 4 brokers, 1 probe/s/broker, %ss measured after a 25s warm-up\n" "$secs"
printf "CPU: %.2f%% of one core (%d ticks in %.1fs)\n" "$pct" "$((c1 - c0))" "$(echo "$t1 - $t0" | bc)"
printf "memory: RSS %d MiB, peak %d MiB\n" "$((rss / 1024))" "$((hwm / 1024))"
"$bin" lab exec dc-a --dir "$dir" -- curl -s 127.0.0.1:9464/metrics | grep -E '^(process_cpu_seconds_total|process_resident_memory_bytes|go_memstats_heap_inuse_bytes) ' || true
