#!/usr/bin/env bash
# The main job on the embedded default: a local 2.5-DC lab of real Kafka.
# For now: lab up, status, a DC failure and its healing, lab down.
set -euo pipefail
bin=${1:-bin/stretchctl}
dir=${STRETCHCTL_DEMO_DIR:-$PWD/out/demo-lab}
down() { "$bin" lab down --dir "$dir" >/dev/null 2>&1 || true; }
trap down EXIT INT TERM
down
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "lab up: real Apache Kafka, dc-a and dc-b with brokers, dc-c tie-breaker controller"
"$bin" lab up --dir "$dir" --latency dc-a/dc-b=10ms,dc-a/dc-c=15ms,dc-b/dc-c=15ms
step "lab status"
"$bin" lab status --dir "$dir"
step "isolate dc-a: its brokers are fenced once broker.session.timeout.ms (9s) passes"
"$bin" lab fault isolate dc-a --dir "$dir"
sleep 12
"$bin" lab status --dir "$dir" | sed -n '/^cluster/,/^$/p'
step "heal: links restored, dc-a's brokers rejoin"
"$bin" lab heal --all --dir "$dir"
"$bin" lab status --dir "$dir" | sed -n '/^cluster/,/^$/p'
step "lab down"
"$bin" lab down --dir "$dir"
trap - EXIT
