#!/usr/bin/env bash
# Benchmark: stretchctl's produce and end-to-end figures side by side with
# Kafka's own tools on the same link in the same run: from dc-a of a
# 2.5-DC lab with a 20 ms dc-a/dc-b round trip, to a partition led by a
# broker in dc-b whose replicas are those of the probe's partition there.
#   - kafka-producer-perf-test (org.apache.kafka.tools.ProducerPerformance),
#     acks=1 and acks=all, 10 records/s, linger.ms=0;
#   - Kafka's end-to-end latency tool (org.apache.kafka.tools.EndToEndLatency),
#     acks=all, one record at a time;
#   - stretchctl probe from dc-a (one sample per second per kind).
# Usage: bench/probe-vs-kafka-perf.sh [bin] [records]
set -euo pipefail
bin=$(realpath "${1:-bin/stretchctl}")
n=${2:-300}
dir=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)/lab
trap '"$bin" lab down --dir "$dir" >/dev/null 2>&1 || true' EXIT

"$bin" lab up --dir "$dir" --latency dc-a/dc-b=20ms >/dev/null 2>&1
cfg="$dir/stretch.yaml"
boot=$(sed -n "/bootstrap:/,/kafkaVersion/p" "$cfg" | grep -- "- " | sed "s/ *- //" | paste -sd, -)
libs=$(ls -d "${STRETCHCTL_CACHE:-$HOME/.cache/stretchctl}"/kafka-4.3.1/libs)
inA() { "$bin" lab exec dc-a --dir "$dir" -- "$@"; }
java_() { java -cp "$libs/*" -Dlog4j2.level=WARN "$@"; }

# A first probe creates the probe topic; its partition led in dc-b gives
# the replica list to copy.
inA "$bin" probe --config "$cfg" --duration 5s --format json >/dev/null 2>&1
read -r leader replicas < <("$bin" snapshot --config "$cfg" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
dc = {b["id"]: b.get("rack", "") for b in s["brokers"]}
for t in s["topics"]:
    if t["name"] == "__stretchctl_probe":
        for p in t["partitions"]:
            if dc.get(p["leader"]) == "dc-b":
                print(p["leader"], ":".join(str(r) for r in p["replicas"])); sys.exit()
')
java_ org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" --create --topic perf-b \
  --replica-assignment "$replicas" --config min.insync.replicas=1 >/dev/null
sleep 3
echo "link dc-a -> dc-b, 20 ms round trip; partition led by broker $leader (dc-b), replicas $replicas"
echo
for acks in 1 all; do
  line=$(inA java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.ProducerPerformance --topic perf-b \
    --num-records "$n" --throughput 10 --record-size 100 \
    --producer-props bootstrap.servers="$boot" acks=$acks linger.ms=0 2>/dev/null | tail -1)
  echo "kafka-producer-perf-test acks=$acks: $line"
done
e2e=$(inA java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.EndToEndLatency "$boot" perf-b "$n" all 100 2>/dev/null | grep -E "Avg latency|Percentiles" | paste -sd' ')
echo "kafka EndToEndLatency acks=all: $e2e"
echo
inA "$bin" probe --config "$cfg" --duration "$((n / 10))s" --format json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
for b in r["brokers"]:
    if b["id"] == '"$leader"':
        for k in ("connect", "request", "produceAcks1", "produceAcksAll", "replication", "endToEnd"):
            s = b[k]
            if "p50Ms" in s:
                print("stretchctl probe %-15s n=%-4d mean %6.2f ms  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms" % (k, s["count"], s["meanMs"], s["p50Ms"], s["p99Ms"], s["maxMs"]))
            else:
                print("stretchctl probe %-15s not measured: %s" % (k, s.get("unknown") or s.get("lastError")))
'
