"""Fire times from croniter, the reference Weir's schedules are checked against.

Reads {"cases": [{"expr", "tz", "start", "count"}]} on stdin (start in epoch seconds) and
writes, for each case, the next `count` fire times strictly after `start`, in epoch seconds.
Six-field expressions put seconds first, as Weir does.
"""
import json
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from croniter import croniter

def fires(case):
    tz = ZoneInfo(case["tz"])
    start = datetime.fromtimestamp(case["start"], tz=timezone.utc).astimezone(tz)
    expr = case["expr"]
    six = not expr.startswith("@") and len(expr.split()) == 6
    it = croniter(expr, start, second_at_beginning=six)
    return [int(it.get_next(datetime).timestamp()) for _ in range(case["count"])]

def main():
    request = json.load(sys.stdin)
    json.dump([fires(c) for c in request["cases"]], sys.stdout)

main()
