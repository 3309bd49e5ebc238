#!/usr/bin/env bash
# Benchmark: the full game-day campaign on a 3dc lab (10 ms links): every
# DC × crash, lose and isolate on a topic with a leader in every DC
# (RF 3, min.insync.replicas 2), the Java client with its defaults, a
# consumer group of 3 Java members (one per DC, the client's defaults:
# session.timeout.ms 45 s), each fault held 45 s. Prints the matrix and the truth score (the share of
# compared points where prediction and observation agree) and writes the
# HTML report with every timeline to out/campaign.html.
# Usage: bench/campaign.sh [bin] [hold]
set -euo pipefail
bin=$(realpath "${1:-bin/stretchctl}")
hold=${2:-45s}
root=$(mktemp -d /tmp/stretchctl-bench.XXXXXX)
dir=$root/lab
trap '"$bin" lab down --dir "$dir" >/dev/null 2>&1 || true' EXIT

"$bin" lab up --dir "$dir" --topology 3dc --brokers-per-dc 1 \
  --latency "dc-a/dc-b=10ms,dc-a/dc-c=10ms,dc-b/dc-c=10ms" >/dev/null 2>&1
cfg="$dir/stretch.yaml"
boot=$(sed -n "/bootstrap:/,/kafkaVersion/p" "$cfg" | grep -- "- " | sed "s/ *- //" | paste -sd, -)
libs=$(ls -d "${STRETCHCTL_CACHE:-$HOME/.cache/stretchctl}"/kafka-4.3.1/libs)
java -cp "$libs/*" -Dlog4j2.level=WARN org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" --create \
  --topic campaign --replica-assignment 1:2:3,2:3:1,3:1:2,1:3:2,2:1:3,3:2:1 --config min.insync.replicas=2 >/dev/null
sleep 2
echo "lab: 3dc, 10 ms between DCs; topic campaign: 6 partitions led in every DC, RF 3, min.insync.replicas 2; hold $hold"
mkdir -p out
start=$SECONDS
"$bin" drill campaign --config "$cfg" --lab-dir "$dir" --dir "$root/campaign" --topic campaign --duration "$hold" \
  --steady 10s --rate 1000 --consumers 3 --consumer-dc dc-a,dc-b,dc-c \
  --yes --report html=out/campaign.html --report json=out/campaign.json || true
echo "campaign: $((SECONDS - start)) s; report: out/campaign.html"
