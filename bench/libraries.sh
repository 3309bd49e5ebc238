#!/usr/bin/env bash
# Benchmark: the drill's workload on each real client library.
#   1. steady throughput: a clean drill per library (2 ms more towards
#      dc-c) at a target rate, acknowledged records per second, beside
#      Kafka's own ProducerPerformance at the same rate (Java defaults);
#   2. library x fault: kill and isolate the DC that leads every partition
#      (3 DCs, 10 ms links, RF 3 placed 1/1/1, min.insync.replicas 2,
#      producers at the operator's site, each library with its own
#      defaults) and print the observed RTO: the table in the README.
# Usage: bench/libraries.sh [bin] [rate] [hold]
set -euo pipefail
bin=$(realpath "${1:-bin/stretchctl}")
rate=${2:-5000}
hold=${3:-65s}
dir=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)/lab
trap '"$bin" lab down --dir "$dir" >/dev/null 2>&1 || true' EXIT

"$bin" lab up --dir "$dir" --topology 3dc --brokers-per-dc 1 --latency dc-a/dc-b=10ms,dc-a/dc-c=10ms,dc-b/dc-c=10ms >/dev/null 2>&1
cfg="$dir/stretch.yaml"
boot=$(sed -n "/bootstrap:/,/kafkaVersion/p" "$cfg" | grep -- "- " | sed "s/ *- //" | paste -sd, -)
libs=$(ls -d "${STRETCHCTL_CACHE:-$HOME/.cache/stretchctl}"/kafka-4.3.1/libs)
kafka() { java -cp "$libs/*" -Dlog4j2.level=WARN "$@"; }
kafka org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" --create --topic ledger-a \
  --replica-assignment 1:2:3,1:3:2,1:2:3,1:3:2,1:2:3,1:3:2 --config min.insync.replicas=2 >/dev/null
sleep 2
echo "lab: 3dc, 10 ms between DCs; topic ledger-a: 6 partitions led in dc-a, RF 3 1/1/1, min.insync.replicas 2"
drill() { "$bin" drill --config "$cfg" --lab-dir "$dir" --state-dir "$dir/drills" --topic ledger-a --yes --format json "$@" 2>/dev/null || true; }
field() {
  python3 -c '
import json, sys, datetime
r = json.load(open(sys.argv[1])); o = r["observed"]; w = r["workload"]
p = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
if sys.argv[2] == "rate":
  inj = int((p(r["phases"]["injected"]) - p(r["phases"]["started"])).total_seconds())
  t = sorted(s["successes"] for s in r["timeline"][2:inj]) or [0]
  print("%s %s: %d acked/s (median second), lost %d, duplicates %d" % (w.get("library"), w.get("libraryVersion"), t[len(t)//2], o["ackedLost"], o["duplicates"]))
else:
  print("unbounded" if o["rtoSeconds"] is None else "%.1f s" % o["rtoSeconds"], end="")
' "$@"
}
elect() { kafka org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$boot" --election-type PREFERRED --all-topic-partitions >/dev/null 2>&1 || true; sleep 3; }

echo
echo "steady throughput at $rate records/s"
for lib in java librdkafka franz-go sarama; do
  out=$(mktemp)
  drill --producer-library "$lib" --fault latency --dc dc-c --delay 2ms --duration 5s --steady 15s --rate "$rate" >"$out"
  field "$out" rate
done
line=$(kafka org.apache.kafka.tools.ProducerPerformance --topic ledger-a --num-records $((rate * 20)) --throughput "$rate" \
  --record-size 100 --command-property bootstrap.servers="$boot" 2>/dev/null | tail -1)
echo "ProducerPerformance (kafka-clients 4.3.1, Java defaults): $line"

echo
echo "| library | kill dc-a | isolate dc-a |"
echo "|---|---|---|"
for lib in java librdkafka franz-go sarama; do
  row="| $lib"
  for fault in kill isolate; do
    elect
    out=$(mktemp)
    drill --producer-library "$lib" --fault "$fault" --dc dc-a --duration "$hold" --rate 1000 >"$out"
    row="$row | $(field "$out" rto)"
  done
  echo "$row |"
done
