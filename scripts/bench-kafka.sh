#!/usr/bin/env bash
# Records/s of `logclf kafka` end to end on a real broker: 1M realistic JSON records (the seed data set and
# the Loghub samples, repeated and shuffled) in a 6-partition topic, classified by 1, 2 and 3 workers of one
# group into a 6-partition output topic, with the exact cache and without; then the lag per partition while
# a second worker joins a running one.
# Usage: scripts/bench-kafka.sh [RECORDS]   (default 1000000)
# The broker is ../shared/kafka's, started here on a free loopback port (on this same machine, so it takes
# CPU from the workers); LOGCLF_KAFKA_BROKERS=HOST:PORT uses a running one instead.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
bash scripts/build.sh >/dev/null
logclf=$PWD/build/bin/logclf
shared=$PWD/../shared
work=$(mktemp -d)
broker=""
workers=()
stop_workers() {
  for p in "${workers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${workers[@]}"; do wait "$p" 2>/dev/null || true; done
  workers=()
}
cleanup() {
  stop_workers
  if [ -n "$broker" ]; then kill -TERM "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

brokers=${LOGCLF_KAFKA_BROKERS:-}
if [ -z "$brokers" ]; then
  port=$(free_port)
  "$shared/kafka/start-kafka.sh" "$work/kafka" "$port" >"$work/broker.log" 2>&1 &
  broker=$!
  for _ in $(seq 1 120); do grep -q '^ready' "$work/broker.log" && break; sleep 0.5; done
  grep -q '^ready' "$work/broker.log" || { echo "the broker did not start:"; tail "$work/broker.log"; exit 1; }
  brokers=127.0.0.1:$port
fi
topic() { "$shared/kafka/topics.sh" "$brokers" create "$1" "$2" >/dev/null; }
run=$(date +%s)

echo "input: $records records from the seed data set and the Loghub samples"
python3 - "$shared" "$records" >"$work/input.jsonl" <<'EOF'
import csv, glob, json, random, sys
shared, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
rows = []
with open(f"{shared}/data/synthetic_logs.csv", newline="") as f:
    rows += [{"timestamp": r["timestamp"], "source": r["source"], "log_message": r["log_message"]} for r in csv.DictReader(f)]
for path in sorted(glob.glob(f"{shared}/data/loghub/*.log")):
    source = path.rsplit("/", 1)[1].split("_")[0]
    rows += [{"source": source, "log_message": l.rstrip("\n")} for l in open(path, errors="replace") if l.strip()]
for i in range(n):
    r = dict(random.choice(rows)); r["seq"] = i
    print(json.dumps(r))
EOF
topic "raw-$run" 6
kcat -P -b "$brokers" -t "raw-$run" -K '\t' -l <(awk '{printf "k%d\t%s\n", NR % 1000, $0}' "$work/input.jsonl")
echo "broker: $brokers; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

# Sum of a metric over the workers' /metrics endpoints.
metric() {
  local name=$1; shift
  local total=0
  for p in "$@"; do
    v=$(curl -s "127.0.0.1:$p/metrics" | awk -v n="$name" '$1 == n {print $2}')
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

start_worker() {  # GROUP OUTPUT CACHE; sets `port`
  port=$(free_port)
  "$logclf" kafka --brokers "$brokers" --input-topic "raw-$run" --output-topic "$2" --group "$1" --cache "$3" \
    --metrics-port "$port" -q >/dev/null 2>>"$work/workers.log" &
  workers+=($!)
  for _ in $(seq 1 100); do curl -s "127.0.0.1:$port/metrics" >/dev/null && return; sleep 0.1; done
}

printf '%-8s %-6s %10s %12s %16s\n' workers cache seconds records/s "records/s (run)"
for cache in exact off; do
  for n in 1 2 3; do
    g="bench-$run-$cache-$n"
    topic "$g" 6
    ports=()
    start=$(date +%s.%N)
    for _ in $(seq 1 "$n"); do start_worker "$g" "$g" "$cache"; ports+=("$port"); done
    first=""
    while :; do
      out=$(metric logclf_kafka_records_out_total "${ports[@]}")
      [ -z "$first" ] && [ "$out" -gt 0 ] && first=$(date +%s.%N) && first_out=$out
      [ "$out" -ge "$records" ] && break
      for w in "${workers[@]}"; do
        kill -0 "$w" 2>/dev/null || { echo "a worker died:"; tail -20 "$work/workers.log"; exit 1; }
      done
      sleep 0.1
    done
    end=$(date +%s.%N)
    printf '%-8s %-6s %10.2f %12.0f %16.0f\n' "$n" "$cache" "$(echo "$end - $start" | bc)" \
      "$(echo "$records / ($end - $start)" | bc -l)" "$(echo "($records - $first_out) / ($end - $first)" | bc -l)"
    stop_workers
  done
done
echo "(seconds: from starting the workers, group join included, to the last output acknowledged; run: from the first output)"

echo
echo "lag per partition while a second worker joins (cache off; the second starts at 3 s):"
g="bench-$run-join"
topic "$g" 6
start_worker "$g" "$g" off
p1=$port
p2=""
printf '%5s %s\n' t "raw/0..5 lag (worker 1 | worker 2)"
for t in $(seq 0 0.5 12); do
  if [ "$t" = "3.0" ]; then start_worker "$g" "$g" off; p2=$port; fi
  row=""
  for p in $p1 $p2; do
    row+=$(curl -s "127.0.0.1:$p/metrics" | awk '/^logclf_kafka_lag\{/ {match($0, /partition="[0-9]+"/); printf "%s=%s ", substr($0, RSTART+11, RLENGTH-12), $2}')
    row+="| "
  done
  printf '%5s %s\n' "$t" "$row"
  sleep 0.5
done
