#!/usr/bin/env bash
# Load test of `logclf serve` on loopback with wrk: POST /v1/classify with one log line per request
# (scripts/bench-serve.lua rotates over 40 realistic lines), or with RECORDS=N POST /v1/classify/json with
# N records per request (a log shipper's batch). Builds nothing: uses build/bin/logclf.
#
#   1. saturation: SECONDS (default 60) with CONNECTIONS connections (default 64) from WRK_THREADS wrk
#      threads (default 1: wrk shares the machine's cores with the server);
#   2. half load: the same connections with think time between requests so that they offer about half
#      the saturation rate (wrk cannot limit its rate and wrk2 is not packaged in Debian), for the
#      latency of a server that is not saturated.
# Prints requests/s, p50 / p99 latency and errors of each run, and the server's RSS before and after.
# Usage: scripts/bench-serve.sh [SECONDS]   Environment: LOGCLF, CONNECTIONS, WRK_THREADS, SERVER_THREADS, RECORDS,
# SERVE_ARGS (more options for logclf serve, e.g. "-m my-model").
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bin=${LOGCLF:-build/bin/logclf}
connections=${CONNECTIONS:-64}
wrk_threads=${WRK_THREADS:-1}
server_threads=${SERVER_THREADS:-0}
script=scripts/bench-serve.lua

[ -x "$bin" ] || { echo "bench-serve: $bin is missing; build it first (bash scripts/build.sh)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench-serve: wrk is missing (apt-get install wrk)" >&2; exit 1; }

log=$(mktemp)
# The server's event loops (one per core) serve every connection; --http-threads only sizes the pool for
# requests that may block (streamed or large bodies, batched classification), 0 being its default.
# shellcheck disable=SC2086
"$bin" serve --port 0 --http-threads "$server_threads" ${SERVE_ARGS:-} 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT

port=
for _ in $(seq 300); do
  port=$(sed -n 's|^logclf: serving on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "bench-serve: the server did not start" >&2; cat "$log" >&2; exit 1; }
url="http://127.0.0.1:$port/v1/classify"
records=${RECORDS:-1}
export RECORDS=$records

rss() { awk '/^VmRSS/ {print $2 " " $3}' "/proc/$pid/status"; }
field() { sed -n "s/^RESULT.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

echo "logclf serve on port $port: $(nproc) cores, server threads $server_threads; wrk: $wrk_threads thread(s), $connections connections"
echo "RSS before: $(rss)"
wrk -t"$wrk_threads" -c"$connections" -d5s -s "$script" "$url" >/dev/null  # warm-up
echo "RSS after warm-up: $(rss)"

status=0
report() {  # NAME OUTPUT
  local out=$2
  printf '%-12s %10s req/s   p50 %8s ms   p99 %8s ms   max %8s ms   errors %s (non-2xx %s)' "$1" \
    "$(field rps "$out")" "$(field p50_ms "$out")" "$(field p99_ms "$out")" "$(field max_ms "$out")" \
    "$(field errors "$out")" "$(field non2xx "$out")"
  if [ "$records" -gt 1 ]; then
    printf '   %s records/s' "$(awk -v r="$(field rps "$out")" -v n="$records" 'BEGIN { printf "%.0f", r * n }')"
  fi
  printf '\n'
  if [ "$(field errors "$out")" != 0 ] || [ "$(field non2xx "$out")" != 0 ]; then status=1; fi
}

full=$(wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" -s "$script" "$url")
report saturation "$full"
rps=$(field rps "$full")
echo "RSS after saturation: $(rss)"

# Think time per connection for half the saturation rate: connections / (rps / 2) seconds per request, in
# milliseconds (the request's own time comes on top, so the rate offered is a little under half).
delay=$(awk -v c="$connections" -v r="$rps" 'BEGIN { d = c * 2000 / r; printf "%d", (d < 1 ? 1 : d) }')
half=$(DELAY_MS=$delay wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" -s "$script" "$url")
report "half load" "$half"
echo "  (think time ${delay} ms per connection; target $(awk -v r="$rps" 'BEGIN { printf "%.0f", r / 2 }') req/s)"
echo "RSS after: $(rss)"
exit $status
