#!/usr/bin/env bash
# Load benchmark of `weir serve` over loopback (issue #3): W1 synchronous order-approval
# decisions, W2 three durable `set` steps, W3 one event fanning out to a 10-branch parallel.
# Prints wrk's throughput and latency distribution, the server's CPU time and disk writes per
# request, and its idle and peak RSS. WEIR_BENCH_LOG=FILE keeps the server's log;
# WEIR_BENCH_DATABASE_URL=postgres://... runs the server on that (empty) PostgreSQL database
# instead of a fresh SQLite folder (CPU time and disk writes are then Weir's alone, not the
# database server's).
#
#   bench/serve-load.sh [seconds per workload, default 10] [connections, default 16] [workloads, default "W1 W2 W3"]
#
# Needs Debian's wrk (apt-get install wrk). A benchmark, not a test: nothing here asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-16}"
WORKLOADS="${3:-W1 W2 W3}"
PORT="${WEIR_BENCH_PORT:-18099}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

cargo build --release -p weir >&2
DATA="$(mktemp -d)"
export WEIR_ADMIN_KEY="bench-$(date +%s%N)"
DB_ARGS=()
[ -n "${WEIR_BENCH_DATABASE_URL:-}" ] && DB_ARGS=(--database-url "$WEIR_BENCH_DATABASE_URL")
./target/release/weir serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" "${DB_ARGS[@]}" 2>"${WEIR_BENCH_LOG:-$DATA/serve.log}" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
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

echo "idle RSS after start: $(rss)"
run() {
  local name="$1" body="$2"
  cat > "$DATA/req.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $WEIR_ADMIN_KEY"
LUA
  echo
  echo "== $name: ${DURATION}s, $CONNECTIONS connections"
  local cpu0 disk0
  cpu0=$(cpu_ticks); disk0=$(disk_bytes)
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$DATA/req.lua" "http://127.0.0.1:$PORT/api/v1/events" > "$DATA/wrk.out"
  sed -n '/Latency Distribution/,/Requests\/sec/p' "$DATA/wrk.out"
  awk -v ticks="$(( $(cpu_ticks) - cpu0 ))" -v hz="$(getconf CLK_TCK)" -v bytes="$(( $(disk_bytes) - disk0 ))" \
    '/requests in/ { n = $1 } END { if (n) printf "  server CPU %.0f us/request, disk written %.1f KB/request\n", ticks / hz * 1e6 / n, bytes / 1024 / n }' "$DATA/wrk.out"
}
want() { [[ " $WORKLOADS " == *" $1 "* ]]; }
want W1 && run "W1 order approval, synchronous decision" '{"event_type": "order.checkout.initiated", "payload": {"order": {"id": "o1", "total": 15000}}}'
want W2 && run "W2 three durable set steps" '{"event_type": "w2", "payload": {"n": 1}, "timeout_ms": 0}'
want W3 && run "W3 one event, 10-branch parallel" '{"event_type": "w3", "payload": {}, "timeout_ms": 0}'
sleep 2
echo
echo "RSS after the runs: $(rss); peak: $(peak)"
if [ -z "${WEIR_BENCH_DATABASE_URL:-}" ]; then
  echo "executions recorded: $(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*), sum(status = \"completed\") from executions').fetchone())" "$DATA/weir.db")"
fi
