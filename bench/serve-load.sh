#!/usr/bin/env bash
# Load benchmark of `weir serve` over loopback: W1 synchronous order-approval decisions, W2 three
# durable `set` steps, W3 one event fanning out to a 10-branch parallel, W4 one call to a service
# that answers after 50 ms then a condition and a decision, W5 one event into a 10-branch
# parallel whose branches each make that call; then (MEM) the server's memory with 10,000 calls
# in flight. Every request of W1-W5 carries its own order id, and W1 alternates totals that
# block and allow (a constant body hides work). Prints wrk's throughput and latency
# distribution, the server's CPU time and disk writes per request, and its idle and peak RSS. WEIR_BENCH_LOG=FILE keeps the server's log;
# WEIR_BENCH_DATABASE_URL=postgres://... runs the server on that (empty) PostgreSQL database
# instead of a fresh SQLite folder (CPU time and disk writes are then Weir's alone, not the
# database server's).
#
#   bench/serve-load.sh [seconds per workload, default 10] [connections, default "16"] [workloads, default "W1 W2 W3 W4 W5 MEM"]
#
# Connections may be a list ("16 64 256"): each workload runs once per count, except W4, which
# runs at 16 and 128 whatever is given, and W5 at 16. The slow service is the example
# `slow_peer` of weir-server. The server runs with WEIR_MAX_IN_FLIGHT_ACTIONS=14000 so that MEM
# can have 10,000 calls of one tenant in flight (a tenant takes at most three quarters of the
# pool; the default, 1024, is never reached by W4 or W5).
#
# WEIR_BENCH_BIN=PATH runs that build of weir instead of building this tree's (to compare two
# builds side by side, alternating runs).
#
# WEIR_BENCH_REPEAT=N runs W1, W2 and W3 N times at each connection count, interleaved (W1 W2
# W3 W1 W2 W3 ...), and ends with each one's median: on a shared two-core machine one run of
# ten seconds can differ from the next by a tenth.
#
# Needs Debian's wrk (apt-get install wrk). A benchmark, not a test: nothing here asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-16}"
WORKLOADS="${3:-W1 W2 W3 W4 W5 MEM}"
PORT="${WEIR_BENCH_PORT:-18099}"
PEER_PORT="${WEIR_BENCH_PEER_PORT:-18098}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

BIN="${WEIR_BENCH_BIN:-./target/release/weir}"
[ -n "${WEIR_BENCH_BIN:-}" ] || cargo build --release -p weir >&2
cargo build --release -p weir-server --example slow_peer >&2
DATA="$(mktemp -d)"
./target/release/examples/slow_peer "127.0.0.1:$PEER_PORT" &
PEER=$!
export WEIR_ADMIN_KEY="bench-$(date +%s%N)"
DB_ARGS=()
[ -n "${WEIR_BENCH_DATABASE_URL:-}" ] && DB_ARGS=(--database-url "$WEIR_BENCH_DATABASE_URL")
WEIR_MAX_IN_FLIGHT_ACTIONS=14000 "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
  --outbound-allow "127.0.0.1:$PEER_PORT" "${DB_ARGS[@]}" 2>"${WEIR_BENCH_LOG:-$DATA/serve.log}" &
PID=$!
# At exit, whatever happened. Without `set +e` the first command that fails here (waiting for
# the server gives its exit status) ended the script before the data folder went: each run
# left its database behind, 5 to 21 GB.
cleanup() {
  set +e
  kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null
  kill $PEER 2>/dev/null; wait $PEER 2>/dev/null
  rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "localhost:$PORT/health" >/dev/null && break; sleep 0.1; done

post() { curl -sf -X POST "localhost:$PORT$1" -H "Authorization: Bearer $WEIR_ADMIN_KEY" -H 'Content-Type: application/json' --data-binary "$2" >/dev/null; }
rss() { awk '/^VmRSS/ {print $2/1024 " MB"}' "/proc/$PID/status"; }
peak() { awk '/^VmHWM/ {print $2/1024 " MB"}' "/proc/$PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
disk_bytes() { awk '/^write_bytes/ {print $2}' "/proc/$PID/io"; }

# W1: seed 001's order approval, as written but for its notify action (actions that reach the
# outside world arrive with the actions work), answered synchronously.
post /api/v1/workflows '{"workflow_id": "w1_order_approval", "trigger": {"type": "event", "event": "order.checkout.initiated"},
  "steps": [
    {"id": "check_order_value", "type": "condition", "condition": {"field": "order.total", "operator": "gte", "value": 10000},
     "on_true": "require_approval", "on_false": "allow_order"},
    {"id": "require_approval", "type": "action", "action": "block", "reason": "Order requires approval for amounts over $10,000"},
    {"id": "allow_order", "type": "action", "action": "allow"}]}'
post /api/v1/workflows '{"workflow_id": "w2_three_sets", "trigger": {"type": "event", "event": "w2"},
  "steps": [{"id": "a", "type": "set", "variables": {"a": "{{n}}"}}, {"id": "b", "type": "set", "variables": {"b": "{{vars.a}}"}},
            {"id": "c", "type": "set", "variables": {"c": "{{vars.b}}"}}]}'
BRANCHES=$(python3 -c 'import json; print(json.dumps([{"id": f"b{i}", "type": "set", "variables": {f"v{i}": i}} for i in range(10)]))')
post /api/v1/workflows "{\"workflow_id\": \"w3_fan_out\", \"trigger\": {\"type\": \"event\", \"event\": \"w3\"},
  \"steps\": [{\"id\": \"fan\", \"type\": \"parallel\", \"strategy\": \"all\", \"steps\": $BRANCHES}]}"

SLOW="http://127.0.0.1:$PEER_PORT/slow"
# W4: one call that takes 50 ms, a condition on its answer, a decision.
post /api/v1/workflows "{\"workflow_id\": \"w4_call\", \"trigger\": {\"type\": \"event\", \"event\": \"w4\"},
  \"steps\": [{\"id\": \"call\", \"type\": \"http_request\", \"config\": {\"url\": \"$SLOW?ms=50\", \"method\": \"POST\", \"body\": {\"order\": \"{{order.id}}\"}}},
    {\"id\": \"check\", \"type\": \"condition\", \"condition\": {\"field\": \"steps.call.output.status\", \"operator\": \"eq\", \"value\": 200},
     \"on_true\": \"allow\", \"on_false\": \"block\"},
    {\"id\": \"allow\", \"type\": \"action\", \"action\": \"allow\"},
    {\"id\": \"block\", \"type\": \"action\", \"action\": \"block\", \"reason\": \"the check did not answer\"}]}"
# W5: ten branches, each making that call; the decision follows them all.
CALLS=$(python3 -c 'import json, sys; print(json.dumps([{"id": f"c{i}", "type": "http_request", "config": {"url": sys.argv[1] + "?ms=50", "method": "POST"}} for i in range(10)]))' "$SLOW")
post /api/v1/workflows "{\"workflow_id\": \"w5_parallel_calls\", \"trigger\": {\"type\": \"event\", \"event\": \"w5\"},
  \"steps\": [{\"id\": \"fan\", \"type\": \"parallel\", \"strategy\": \"all\", \"steps\": $CALLS},
    {\"id\": \"allow\", \"type\": \"action\", \"action\": \"allow\"}]}"
# MEM: a call that takes 60 s, so that calls pile up in flight.
post /api/v1/workflows "{\"workflow_id\": \"mem_hold\", \"trigger\": {\"type\": \"event\", \"event\": \"mem\"},
  \"steps\": [{\"id\": \"call\", \"type\": \"http_request\", \"config\": {\"url\": \"$SLOW?ms=60000\", \"method\": \"POST\", \"timeout\": \"90s\"}}]}"

echo "idle RSS after start: $(rss)"
# Runs wrk with a body made per request: %ID% becomes a unique order id, %TOTAL% alternates
# between 15000 (blocked by W1) and 500 (allowed).
run() {
  local name="$1" body="$2" connections="$3"
  cat > "$DATA/req.lua" <<LUA
local counter = 0
local thread_id = 0
local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end
function request()
  counter = counter + 1
  local total = (counter % 2 == 0) and "15000" or "500"
  local body = string.gsub('$body', "%%ID%%", "o-" .. thread_id .. "-" .. counter)
  body = string.gsub(body, "%%TOTAL%%", total)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $WEIR_ADMIN_KEY"}, body)
end
LUA
  echo
  echo "== $name: ${DURATION}s, $connections connections"
  local cpu0 disk0
  cpu0=$(cpu_ticks); disk0=$(disk_bytes)
  wrk -t2 -c"$connections" -d"${DURATION}s" --latency -s "$DATA/req.lua" "http://127.0.0.1:$PORT/api/v1/events" > "$DATA/wrk.out"
  sed -n '/Latency Distribution/,/Requests\/sec/p' "$DATA/wrk.out"
  awk -v w="${name%% *}@$connections" '/ 99% / { p99 = $2 } /^Requests\/sec/ { rps = $2 } END { print w, rps, p99 }' "$DATA/wrk.out" >> "$DATA/summary"
  awk -v ticks="$(( $(cpu_ticks) - cpu0 ))" -v hz="$(getconf CLK_TCK)" -v bytes="$(( $(disk_bytes) - disk0 ))" \
    '/requests in/ { n = $1 } END { if (n) printf "  server CPU %.0f us/request, disk written %.1f KB/request\n", ticks / hz * 1e6 / n, bytes / 1024 / n }' "$DATA/wrk.out"
}
want() { [[ " $WORKLOADS " == *" $1 "* ]]; }
for c in $CONNECTIONS; do
  for _ in $(seq "${WEIR_BENCH_REPEAT:-1}"); do
    want W1 && run "W1 order approval, synchronous decision" '{"event_type": "order.checkout.initiated", "payload": {"order": {"id": "%ID%", "total": %TOTAL%}}}' "$c"
    want W2 && run "W2 three durable set steps" '{"event_type": "w2", "payload": {"n": 1, "order": {"id": "%ID%"}}, "timeout_ms": 0}' "$c"
    want W3 && run "W3 one event, 10-branch parallel" '{"event_type": "w3", "payload": {"order": {"id": "%ID%"}}, "timeout_ms": 0}' "$c"
  done
done
for c in 16 128; do
  want W4 && run "W4 one 50 ms call, a condition, a decision (ideal at 16: 320/s)" '{"event_type": "w4", "payload": {"order": {"id": "%ID%"}}}' "$c"
done
want W5 && run "W5 one event, 10 parallel branches of one 50 ms call each" '{"event_type": "w5", "payload": {"order": {"id": "%ID%"}}}' 16
if want MEM; then
  echo
  echo "== MEM: 10,000 calls of 60 s in flight"
  curl -sf -X POST "localhost:$PEER_PORT/reset" >/dev/null
  python3 - "$PORT" "$WEIR_ADMIN_KEY" <<'PY'
import http.client, json, sys, threading
port, key = int(sys.argv[1]), sys.argv[2]
def send(n):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(n):
        c.request("POST", "/api/v1/events", json.dumps({"event_type": "mem", "payload": {}, "timeout_ms": 0}),
                  {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 200, r.status
threads = [threading.Thread(target=send, args=(1250,)) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
PY
  for _ in $(seq 120); do
    n=$(curl -sf "localhost:$PEER_PORT/peak" | python3 -c 'import json, sys; print(json.load(sys.stdin)["in_flight"])')
    [ "$n" -ge 10000 ] && break
    sleep 0.5
  done
  echo "  calls in flight at the peer: $n; server RSS $(rss), peak $(peak)"
fi
sleep 2
echo
echo "RSS after the runs: $(rss); peak: $(peak)"
if [ "${WEIR_BENCH_REPEAT:-1}" -gt 1 ] && [ -s "$DATA/summary" ]; then
  echo
  echo "== medians over $WEIR_BENCH_REPEAT runs (requests/s; p99)"
  python3 - "$DATA/summary" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    w, rps, p99 = line.split()
    ms = float(p99[:-2]) if p99.endswith("ms") else float(p99[:-2]) / 1000 if p99.endswith("us") else float(p99[:-1]) * 1000
    runs[w].append((float(rps), ms))
for w, rs in runs.items():
    if len(rs) > 1:
        print(f"  {w}: median {statistics.median(r for r, _ in rs):,.0f}/s (runs {', '.join(f'{r:,.0f}' for r, _ in rs)}); "
              f"p99 median {statistics.median(p for _, p in rs):.1f} ms (max {max(p for _, p in rs):.1f})")
PY
fi
if [ -z "${WEIR_BENCH_DATABASE_URL:-}" ]; then
  echo "executions recorded: $(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*), sum(status = \"completed\") from executions').fetchone())" "$DATA/weir.db")"
fi
