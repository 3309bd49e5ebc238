#!/usr/bin/env bash
# The main job on the embedded default: a local 2.5-DC lab of real Kafka.
# lab up -> status -> topics placed well and badly -> check (findings and
# the prediction for every DC loss) -> a DC failure and its healing -> down.
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
step "topics: payments RF 4 as 2+2 with min.insync.replicas 3 (no loss, writes stop), clicks RF 2 with min.insync.replicas 1"
cfg="$dir/stretch.yaml"
boot=$(sed -n "/bootstrap:/,/kafkaVersion/p" "$cfg" | grep -- "- " | sed "s/ *- //" | paste -sd, -)
libs="${STRETCHCTL_CACHE:-$HOME/.cache/stretchctl}/kafka-4.3.1/libs"
kt() { java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" "$@" >/dev/null; }
kt --create --topic payments --replica-assignment 1:3:2:4,3:1:4:2,2:4:1:3 --config min.insync.replicas=3
kt --create --topic clicks --replica-assignment 1:2,3:4 --config min.insync.replicas=1
sleep 2
step "check: the advisor's verdict per DC-loss scenario, then findings by severity (exit 1: goals violated)"
"$bin" check --config "$cfg" --report markdown="$PWD/out/demo-check.md" --report sarif="$PWD/out/demo-check.sarif" || true
echo "(also written: out/demo-check.md, out/demo-check.sarif)"
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
