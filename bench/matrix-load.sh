#!/usr/bin/env bash
# Benchmark: the DC matrix's round trips on a loaded machine. A 3dc lab with
# 10 ms round trips between DCs; a one-shot probe from dc-a measures the
# round trip to dc-b and dc-c idle, then with 13 busy processes beside it
# (a load average of about 13 on 2 cores, as a parallel build makes). The
# router's forwarding threads run SCHED_FIFO (lab up prints its
# scheduling); the Kafka processes and the probe stay at normal priority,
# so what is left of the error under load is theirs.
# Usage: bench/matrix-load.sh [bin] [duration]
set -euo pipefail
bin=$(realpath "${1:-bin/stretchctl}")
duration=${2:-20s}
root=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)
dir=$root/lab
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$bin" lab down --dir "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$bin" lab up --dir "$dir" --topology 3dc --brokers-per-dc 1 \
  --latency "dc-a/dc-b=10ms,dc-a/dc-c=10ms,dc-b/dc-c=10ms" 2>&1 | grep "WAN router up"
cfg="$dir/stretch.yaml"
rtt() { # prints the dc-a→dc-b and dc-a→dc-c round trips (p50 of connect, ms)
  "$bin" lab exec dc-a --dir "$dir" -- "$bin" probe --config "$cfg" --duration "$duration" --format json |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(" ".join("%s %.2f ms" % (c["to"], c["connect"]["p50Ms"]) for c in r["matrix"] if c["to"] != "dc-a"))'
}
rtt >/dev/null # creates the probe topic
echo "idle:   $(rtt)   (configured 10 ms; load $(cut -d' ' -f1 /proc/loadavg))"
for _ in $(seq 13); do sh -c 'while :; do :; done' & pids+=($!); done
sleep 5
echo "loaded: $(rtt)   (configured 10 ms; load $(cut -d' ' -f1 /proc/loadavg))"
