#!/usr/bin/env bash
# Benchmark: the drill's ledger workload and the exactness of its count.
#   1. throughput: acknowledged records per second of the workload at a
#      20 ms (default) inter-DC round trip with acks=all (the Java defaults:
#      idempotent, linger.ms=5), side by side with Kafka's own producer
#      performance tool at the same settings and target rate, same topic,
#      same site, same run (target: at least 5,000/s);
#   2. exactness: N clean drills (latency added towards dc-c, which holds
#      only a controller: nothing may be lost) must count 0 lost and 0
#      duplicates every time; the RTO resolution of each is printed
#      (target: 10 ms or finer).
# Usage: bench/drill.sh [bin] [rate] [runs] [round-trip]
set -euo pipefail
bin=$(realpath "${1:-bin/stretchctl}")
rate=${2:-8000}
runs=${3:-3}
rtt=${4:-20ms}
dir=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)/lab
trap '"$bin" lab down --dir "$dir" >/dev/null 2>&1 || true' EXIT

"$bin" lab up --dir "$dir" --latency "dc-a/dc-b=$rtt,dc-a/dc-c=$rtt,dc-b/dc-c=$rtt" >/dev/null 2>&1
cfg="$dir/stretch.yaml"
boot=$(sed -n "/bootstrap:/,/kafkaVersion/p" "$cfg" | grep -- "- " | sed "s/ *- //" | paste -sd, -)
libs=$(ls -d "${STRETCHCTL_CACHE:-$HOME/.cache/stretchctl}"/kafka-4.3.1/libs)
java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" --create \
  --topic bench-ledger --replica-assignment 1:3,3:1,2:4,4:2,1:4,3:2 --config min.insync.replicas=2 >/dev/null
sleep 2
echo "lab: 2.5dc, $rtt between DCs; topic bench-ledger: 6 partitions, RF 2 across dc-a/dc-b, min.insync.replicas 2"
echo
summary() {
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
o = r["observed"]
t = [s["successes"] for s in r["timeline"]]
inj = int((__import__("datetime").datetime.fromisoformat(r["phases"]["injected"].replace("Z","+00:00")) - __import__("datetime").datetime.fromisoformat(r["phases"]["started"].replace("Z","+00:00"))).total_seconds())
steady = sorted(t[2:inj]) or [0]
print("acked/s median %d (steady seconds %d) · acked %d · lost %d · duplicates %d · unacked-present %d · RTO %s · resolution %.1f ms" % (
  steady[len(steady)//2], len(steady), o["acked"], o["ackedLost"], o["duplicates"], o["unackedPresent"],
  "unbounded" if o["rtoSeconds"] is None else "%.3fs" % o["rtoSeconds"], o["resolutionMs"]))
' "$1"
}
for i in $(seq "$runs"); do
  out=$(mktemp)
  "$bin" drill --config "$cfg" --lab-dir "$dir" --state-dir "$dir/drills" --topic bench-ledger --fault latency --dc dc-c \
    --delay 2ms --duration 10s --steady 12s --rate "$rate" --yes --format json >"$out" 2>/dev/null || true
  printf "clean drill %d: " "$i"; summary "$out"
done
echo
n=$((rate * 20))
line=$(java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.ProducerPerformance --topic bench-ledger \
  --num-records "$n" --throughput "$rate" --record-size 100 \
  --producer-props bootstrap.servers="$boot" acks=all enable.idempotence=true linger.ms=5 2>/dev/null | tail -1)
echo "kafka-producer-perf-test, same settings, target $rate/s: $line"
