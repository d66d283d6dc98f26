#!/usr/bin/env bash
# Retention under load: does pruning a million executions move W1's latency?
#
#   bench/retention-load.sh [seconds per measured run, default 30] [executions to fill, default 1000000] [connections, default 16]
#
# 1. `weir serve --retain-executions off` on a fresh SQLite folder; W1 (the synchronous order
#    approval of serve-load.sh) runs until the database holds the executions asked for.
# 2. The server starts again on that database with retention off; W1 runs for the measured
#    time: the baseline.
# 3. The server starts again with `--retain-executions 1s`, so that everything already there is
#    due and the pruner works through it while W1 runs for the same time.
# Prints wrk's latency distribution of runs 2 and 3, and the executions in the database before
# and after run 3. Needs Debian's wrk and sqlite3. A benchmark, not a test: nothing here asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-30}"
FILL="${2:-1000000}"
CONNECTIONS="${3:-16}"
PORT="${WEIR_BENCH_PORT:-18097}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (apt-get install sqlite3)" >&2; exit 2; }

cargo build --release -p weir >&2
DATA="$(mktemp -d)"
export WEIR_ADMIN_KEY="bench-$(date +%s%N)"
PID=""
stop() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=""; }
trap 'stop; rm -rf "$DATA"' EXIT
start() {
  ./target/release/weir serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" "$@" 2>>"$DATA/serve.log" &
  PID=$!
  for _ in $(seq 100); do curl -sf "localhost:$PORT/health" >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2; exit 1
}
count() { sqlite3 "file:$DATA/weir.db?mode=ro" 'SELECT count(*) FROM executions'; }

cat > "$DATA/req.lua" <<LUA
local counter = 0
local thread_id = 0
local next_thread = 0
local run = os.time()
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end
function request()
  counter = counter + 1
  local total = (counter % 2 == 0) and "15000" or "500"
  local body = '{"event_type": "order.checkout.initiated", "payload": {"order": {"id": "o-' .. run .. '-' .. thread_id .. '-' .. counter .. '", "total": ' .. total .. '}}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $WEIR_ADMIN_KEY"}, body)
end
LUA
w1() { wrk -t2 -c"$CONNECTIONS" -d"${1}s" --latency -s "$DATA/req.lua" "http://127.0.0.1:$PORT/api/v1/events"; }

start --retain-executions off
curl -sf -X POST "localhost:$PORT/api/v1/workflows" -H "Authorization: Bearer $WEIR_ADMIN_KEY" \
  -H 'Content-Type: application/json' --data-binary '{"workflow_id": "w1_order_approval",
  "trigger": {"type": "event", "event": "order.checkout.initiated"},
  "steps": [
    {"id": "check_order_value", "type": "condition", "condition": {"field": "order.total", "operator": "gte", "value": 10000},
     "on_true": "require_approval", "on_false": "allow_order"},
    {"id": "require_approval", "type": "action", "action": "block", "reason": "Order requires approval for amounts over $10,000"},
    {"id": "allow_order", "type": "action", "action": "allow"}]}' >/dev/null
echo "== filling the database with $FILL executions" >&2
while [ "$(count)" -lt "$FILL" ]; do w1 20 >/dev/null; done
stop
echo "executions: $(count), database $(du -sh "$DATA" | cut -f1)"

start --retain-executions off
echo
echo "== W1, retention off: ${SECONDS_RUN}s, $CONNECTIONS connections"
w1 "$SECONDS_RUN" | sed -n '/Latency Distribution/,/Requests\/sec/p'
stop

before=$(count)
start --retain-executions 1s
echo
echo "== W1 while the pruner deletes (--retain-executions 1s): ${SECONDS_RUN}s, $CONNECTIONS connections"
w1 "$SECONDS_RUN" | sed -n '/Latency Distribution/,/Requests\/sec/p'
stop
echo "executions before the run: $before; after it (the run added its own): $(count)"
grep -h 'retention deleted' "$DATA/serve.log" | tail -3 || true
