#!/usr/bin/env bash
# Benchmark: `stretchctl check` against the lab with 5,000 partitions, side
# by side with Kafka's own `kafka-topics.sh --describe` (the TopicCommand
# class from the lab's jars) on the same cluster in the same run.
# Prints the median wall time of each over N runs and their ratio
# (target: stretchctl at most half of kafka-topics, while doing far more:
# every broker's and topic's configs, the quorum, features, rules, scenarios).
# Usage: bench/check-vs-kafka-topics.sh [bin] [runs]
set -euo pipefail
bin=${1:-bin/stretchctl}
runs=${2:-5}
dir=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)/lab
trap '"$bin" lab down --dir "$dir" >/dev/null 2>&1 || true' EXIT

"$bin" lab up --dir "$dir" >/dev/null 2>&1
cfg="$dir/stretch.yaml"
boot=$(sed -n "/bootstrap:/,/kafkaVersion/p" "$cfg" | grep -- "- " | sed "s/ *- //" | paste -sd, -)
libs=$(ls -d "${STRETCHCTL_CACHE:-$HOME/.cache/stretchctl}"/kafka-4.3.1/libs)
kt() { java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" "$@"; }
for i in 1 2 3 4 5; do
  kt --create --topic "bench-$i" --partitions 1000 --replication-factor 3 >/dev/null
done
# Wait until the cluster's metadata shows every partition.
for _ in $(seq 60); do
  parts=$("$bin" snapshot --config "$cfg" 2>/dev/null | python3 -c 'import json,sys; print(sum(len(t["partitions"]) for t in json.load(sys.stdin)["topics"]))')
  [ "$parts" -ge 5000 ] && break
  sleep 2
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_it() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }

check=$(for _ in $(seq "$runs"); do time_it "$bin" check --config "$cfg" --format json; done | median)
topics=$(for _ in $(seq "$runs"); do time_it kt --describe; done | median)
echo "partitions in the cluster: $parts (kafka-topics describes $(kt --describe | grep -c "Partition: "))"
printf "stretchctl check (median of %d):       %.2fs\n" "$runs" "$check"
printf "kafka-topics --describe (median of %d): %.2fs\n" "$runs" "$topics"
printf "ratio stretchctl / kafka-topics:        %.2f\n" "$(echo "$check / $topics" | bc -l)"
