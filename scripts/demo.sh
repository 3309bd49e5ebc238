#!/usr/bin/env bash
# The main job on the embedded default: a local 2.5-DC lab of real Kafka.
# lab up -> status -> probe agents in every DC and the latency matrix ->
# topics placed well and badly -> check (findings, the latency budget and
# the prediction for every DC loss) -> a drill that loses dc-a under a
# ledger workload (observed RTO/RPO next to the prediction, HTML timeline)
# -> a drill that cuts dc-a off under an acks=1 producer inside it -> down.
set -euo pipefail
bin=$(realpath "${1:-bin/stretchctl}")
dir=${STRETCHCTL_DEMO_DIR:-$PWD/out/demo-lab}
agents=()
down() {
  for a in "${agents[@]}"; do kill "$a" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$bin" lab down --dir "$dir" >/dev/null 2>&1 || true
}
trap down EXIT INT TERM
down
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "lab up: real Apache Kafka, dc-a and dc-b with brokers, dc-c tie-breaker controller"
"$bin" lab up --dir "$dir" --latency dc-a/dc-b=10ms,dc-a/dc-c=15ms,dc-b/dc-c=15ms
step "lab status"
"$bin" lab status --dir "$dir"
step "probe agents: one inside each DC's network namespace, rounds of 5s, metrics on :9464 in each"
cfg="$dir/stretch.yaml"
for dc in dc-a dc-b dc-c; do
  "$bin" lab exec "$dc" --dir "$dir" -- "$bin" probe agent --config "$cfg" --window 5s --quiet 2>>"$PWD/out/demo-agents.log" &
  agents+=($!)
done
sleep 25
step "probe matrix: round trip per DC pair as Kafka clients feel it (configured: a-b 10, a-c 15, b-c 15 ms)"
"$bin" probe matrix --config "$cfg"
step "topics: payments RF 4 as 2+2 with min.insync.replicas 3 (no loss, writes stop), clicks RF 2 with min.insync.replicas 1, orders RF 2 led in dc-a with a follower in dc-b"
boot=$(sed -n "/bootstrap:/,/kafkaVersion/p" "$cfg" | grep -- "- " | sed "s/ *- //" | paste -sd, -)
libs="${STRETCHCTL_CACHE:-$HOME/.cache/stretchctl}/kafka-4.3.1/libs"
kt() { java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" "$@" >/dev/null; }
kt --create --topic payments --replica-assignment 1:3:2:4,3:1:4:2,2:4:1:3 --config min.insync.replicas=3
kt --create --topic clicks --replica-assignment 1:2,3:4 --config min.insync.replicas=1
kt --create --topic orders --replica-assignment 1:3,2:4 --config min.insync.replicas=1
sleep 2
step "check: the advisor's verdict per DC-loss scenario (inter-DC latency from the agents), then findings by severity (exit 1: goals violated)"
"$bin" check --config "$cfg" --report markdown="$PWD/out/demo-check.md" --report sarif="$PWD/out/demo-check.sarif" || true
echo "(also written: out/demo-check.md, out/demo-check.sarif)"
step "drill: cut dc-a off while an acks=1 producer inside dc-a writes to orders: acknowledged records are lost, counted exactly"
"$bin" drill --config "$cfg" --lab-dir "$dir" --state-dir "$PWD/out/demo-drills" --topic orders --fault isolate --dc dc-a \
  --producer-dc dc-a --acks 1 --idempotence false --duration 20s --steady 5s --rate 1000 --yes \
  --report html="$PWD/out/demo-drill-isolate.html" --report markdown="$PWD/out/demo-drill-isolate.md" || true
step "drill: crash dc-a while a ledger workload (Kafka's Java producer, its defaults) writes to payments; heal; read back"
"$bin" drill --config "$cfg" --lab-dir "$dir" --state-dir "$PWD/out/demo-drills" --topic payments --fault crash --dc dc-a \
  --duration 20s --steady 5s --rate 1000 --yes --report html="$PWD/out/demo-drill-crash.html" --report json="$PWD/out/demo-drill-crash.json" || true
echo "(timelines: out/demo-drill-crash.html, out/demo-drill-isolate.html)"
step "agents stop (SIGTERM), lab down"
for a in "${agents[@]}"; do kill "$a" 2>/dev/null || true; done
wait
agents=()
"$bin" lab down --dir "$dir"
trap - EXIT
