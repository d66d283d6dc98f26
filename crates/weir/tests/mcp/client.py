"""A real MCP client (the official Python SDK) driving Weir's MCP server.

    python3 client.py http   URL_OF_SERVER EXPECTED_TOOLS_JSON
    python3 client.py legacy URL_OF_SERVER EXPECTED_TOOLS_JSON
    python3 client.py stdio  URL_OF_SERVER EXPECTED_TOOLS_JSON WEIR_BINARY

The key is WEIR_API_KEY. Over `http` it talks to URL/mcp (streamable HTTP) with the key as a
bearer token, in the protocol the SDK prefers (2026-07-28: stateless, the client named on
every request); `legacy` does the same with the initialize handshake of earlier versions (a
session, the client named once); over `stdio` it starts `WEIR_BINARY mcp --server URL` with
the key in its environment. Either way it lists the tools, validates a workflow with a typo and takes the fix,
dry-runs it, deploys it, sends an event, finds the approval the run waits on, approves it and
sees the run finish; reads the resources; sees refusals come back as tool errors; and, over
http, that /mcp without a key (or with a wrong one) answers 401. It prints one JSON line of
what it saw and measured, and exits non-zero on the first thing that is not as expected.
"""

import asyncio
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request

import httpx2
from mcp import Client, StdioServerParameters, types
from mcp.client.streamable_http import streamable_http_client


class Failed(Exception):
    pass


def check(ok, what, seen=None):
    if not ok:
        raise Failed(f"{what}; saw: {json.dumps(seen, default=str)[:2000]}" if seen is not None else what)


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def call(client, name, args, ok=True):
    result = await client.call_tool(name, args)
    if ok:
        check(not result.is_error, f"{name} failed: {text_of(result)}")
        check(isinstance(result.structured_content, dict), f"{name} answers structured content", result)
    return result


def workflow(mode):
    """An order over 1,000 waits for a person's approval; the first target has a typo."""
    return {
        "workflow_id": f"mcp_order_approval_{mode}",
        "name": "Large orders wait for a person",
        "trigger": {"type": "event", "event": f"order.placed.{mode}"},
        "steps": [
            {"id": "check_total", "type": "condition",
             "condition": {"field": "order.total", "operator": "gte", "value": 1000},
             "on_true": "reqiure_approval", "on_false": "allow_order"},
            {"id": "require_approval", "type": "approval", "entity": "order",
             "entity_id": "{{order.id}}", "timeout": "1h",
             "on_approve": "allow_order", "on_reject": "block_order"},
            {"id": "allow_order", "type": "action", "action": "allow"},
            {"id": "block_order", "type": "action", "action": "block", "reason": "a person said no"},
        ],
    }


async def scenario(client, mode, expected_tools):
    seen = {"mode": mode}

    # The tools, named exactly, with truthful annotations and schemas from the API types.
    tools = {t.name: t for t in (await client.list_tools()).tools}
    check(sorted(tools) == sorted(expected_tools), "the tools are the expected ones", sorted(tools))
    for name in ["list_workflows", "get_workflow", "validate_workflow", "test_workflow",
                 "list_executions", "get_execution", "get_execution_trace", "list_approvals",
                 "get_capabilities", "list_templates"]:
        check(tools[name].annotations.read_only_hint is True, f"{name} is read-only", tools[name].annotations)
    for name in ["deploy_workflow", "disable_workflow", "cancel_execution", "decide_approval"]:
        a = tools[name].annotations
        check(a.read_only_hint is False and a.destructive_hint is True, f"{name} is destructive", a)
    for name in ["enable_workflow", "emit_event", "retry_execution"]:
        a = tools[name].annotations
        check(a.read_only_hint is False and a.destructive_hint is False, f"{name} only adds", a)
    check(tools["emit_event"].annotations.open_world_hint is True, "emit_event reaches out", None)
    emit = tools["emit_event"].input_schema
    check(set(emit["properties"]) == {"event_type", "payload", "source", "idempotency_key", "timeout_ms"}
          and emit["required"] == ["event_type"], "emit_event takes EventRequest's fields", emit)
    decide = tools["decide_approval"].input_schema
    check(decide["properties"]["decision"]["enum"] == ["approve", "reject"]
          and set(decide["required"]) == {"id", "decision"}, "decide_approval takes id and decision", decide)
    check(tools["get_execution"].output_schema is not None, "get_execution has an output schema", None)
    seen["tools"] = len(tools)

    # Validate: the typo is found, with a sure fix, and the fixed workflow comes back.
    wf = workflow(mode)
    v = (await call(client, "validate_workflow", {"workflow": wf})).structured_content
    check(v["valid"] is False, "the typo makes it invalid", v)
    typo = [d for d in v["diagnostics"] if d["path"] == "$.steps[0].on_true"]
    check(typo and typo[0]["fix"]["op"] == "replace" and typo[0]["fix"]["value"] == "require_approval"
          and typo[0]["fix"]["certain"] is True, "the typo's fix names the step meant", v)
    fixed = v["fixed_workflow"]
    check(fixed["steps"][0]["on_true"] == "require_approval", "fixed_workflow has the fix", v)
    v = (await call(client, "validate_workflow", {"workflow": json.dumps(fixed)})).structured_content
    check(v["valid"] is True, "the fixed workflow (as text) is valid", v)

    # Deploying the typo is refused as a tool error carrying the API's details and fix.
    refused = await call(client, "deploy_workflow", {"workflow": wf}, ok=False)
    check(refused.is_error is True, "deploying the typo is refused", text_of(refused))
    text = text_of(refused)
    check("422" in text and "$.steps[0].on_true" in text and "require_approval" in text,
          "the refusal says where and how to fix it", text)
    check(refused.structured_content["error"]["code"] == "invalid_workflow", "the API's error comes back", refused.structured_content)
    bad = await call(client, "get_execution", {"id": "no-such-execution"}, ok=False)
    check(bad.is_error is True and "404" in text_of(bad), "an unknown execution is a tool error", text_of(bad))
    bad = await call(client, "list_executions", {"colour": "red"}, ok=False)
    check(bad.is_error is True and "colour" in text_of(bad), "an unknown argument is a tool error", text_of(bad))

    # Dry runs: nothing stored, the path and the decision shown.
    event = f"order.placed.{mode}"
    payload = {"order": {"id": f"o-{mode}-1", "total": 5000}}
    d = (await call(client, "test_workflow", {"workflow": fixed, "event_type": event, "payload": payload,
                                              "approval": "approve"})).structured_content
    check(d["matched"] and d["status"] == "completed" and d["decision"] == "allow", "a dry run approved allows", d)
    check([s["step_id"] for s in d["steps"]] == ["check_total", "require_approval", "allow_order"],
          "the dry run shows the path", d)
    check(d["steps"][0]["condition"]["actual"] == 5000, "the dry run shows the compared value", d["steps"][0])
    d = (await call(client, "test_workflow", {"workflow": fixed, "event_type": event,
                                              "payload": payload})).structured_content
    check(d["status"] == "waiting", "without an assumed outcome the dry run waits at the approval", d)
    d = (await call(client, "test_workflow", {"workflow": fixed, "event_type": "order.other",
                                              "payload": payload})).structured_content
    check(d["status"] == "not_matched", "another event is not heard", d)
    listed = (await call(client, "list_workflows", {"q": f"mcp_order_approval_{mode}"})).structured_content
    check(listed["workflows"] == [], "a dry run stores nothing", listed)

    # Deploy, send an event, find the approval the run waits on, approve it, see the run end.
    stored = (await call(client, "deploy_workflow", {"workflow": fixed})).structured_content
    check(stored["workflow_id"] == wf["workflow_id"] and stored["version"] == 1, "deployed", stored)
    got = (await call(client, "get_workflow", {"id": wf["workflow_id"]})).structured_content
    check(got["definition"]["steps"][0]["on_true"] == "require_approval", "get_workflow gives it back", got)
    answer = (await call(client, "emit_event", {"event_type": event, "payload": payload})).structured_content
    check(answer["matched_workflows"] == [wf["workflow_id"]] and len(answer["executions"]) == 1,
          "the event started the workflow", answer)
    execution_id = answer["executions"][0]["execution_id"]
    check(answer["executions"][0]["status"] == "waiting", "the run waits for its approval", answer)
    approvals = (await call(client, "list_approvals", {"execution_id": execution_id,
                                                       "status": "pending"})).structured_content
    check(len(approvals["approvals"]) == 1, "one approval is pending for the run", approvals)
    approval = approvals["approvals"][0]
    check(approval["entity"] == "order" and approval["entity_id"] == payload["order"]["id"],
          "the approval is the order's", approval)
    decided = (await call(client, "decide_approval", {"id": approval["id"], "decision": "approve",
                                                      "reason": f"checked by the {mode} test"})).structured_content
    check(decided["status"] == "approved", "approved", decided)
    again = await call(client, "decide_approval", {"id": approval["id"], "decision": "reject"}, ok=False)
    check(again.is_error is True and "409" in text_of(again), "a second decision is refused", text_of(again))
    started = time.monotonic()
    while True:
        run = (await call(client, "get_execution", {"id": execution_id})).structured_content
        if run["status"] in ("completed", "failed", "cancelled"):
            break
        check(time.monotonic() - started < 30, "the run finishes within 30 s of its approval", run)
        await asyncio.sleep(0.05)
    check(run["status"] == "completed" and run["decision"] == "allow", "the approved run allowed the order", run)
    seen["run_finished_after_approval_ms"] = round((time.monotonic() - started) * 1000)
    trace = (await call(client, "get_execution_trace", {"id": execution_id})).structured_content
    kinds = [e["kind"] for e in trace["timeline"]]
    check(kinds[0] == "started" and kinds[-1] == "finished", "the trace has the run's timeline", trace)
    runs = (await call(client, "list_executions", {"workflow_id": wf["workflow_id"]})).structured_content
    check([e["id"] for e in runs["executions"]] == [execution_id], "list_executions finds the run", runs)
    disabled = (await call(client, "disable_workflow", {"id": wf["workflow_id"]})).structured_content
    check(disabled["enabled"] is False, "disabled", disabled)
    enabled = (await call(client, "enable_workflow", {"id": wf["workflow_id"]})).structured_content
    check(enabled["enabled"] is True, "enabled again", enabled)

    # A sentence to a workflow, when the server interprets (nothing is deployed), checked by
    # the validator and the dry run like any other.
    if "interpret" in tools:
        check(tools["interpret"].annotations.read_only_hint is True, "interpret is read-only", None)
        i = (await call(client, "interpret", {"prompt": "When an order is placed, block orders over $5,000"})).structured_content
        suggested = i["suggested_workflow"]
        check(isinstance(suggested, dict) and suggested.get("steps"), "interpret suggests a workflow", i)
        v = (await call(client, "validate_workflow", {"workflow": suggested})).structured_content
        check(v["valid"] is True, "the suggested workflow validates", v)
        seen["interpret_confidence"] = i["confidence"]

    # What to build with, and what to start from.
    caps = (await call(client, "get_capabilities", {})).structured_content
    check("order" in caps["entities"] and "gte" in caps["operators"], "capabilities", list(caps))
    templates = (await call(client, "list_templates", {})).structured_content["templates"]
    check(len(templates) >= 6 and all(t["workflow"].get("steps") for t in templates), "templates with workflows", templates)

    # Resources: the format's documentation and the templates.
    resources = {str(r.uri): r for r in (await client.list_resources()).resources}
    check("weir://docs/format" in resources, "the format documentation is a resource", list(resources))
    check(f"weir://templates/{templates[0]['id']}" in resources, "templates are resources", list(resources))
    doc = await client.read_resource("weir://docs/format")
    check("# Workflow definition format" in doc.contents[0].text, "the format documentation reads", None)
    one = await client.read_resource(f"weir://templates/{templates[0]['id']}")
    check(json.loads(one.contents[0].text) == templates[0]["workflow"], "a template resource is its workflow", None)

    # How long a tool call takes, end to end through this client.
    times = []
    for _ in range(50):
        t = time.perf_counter()
        await call(client, "get_workflow", {"id": wf["workflow_id"]})
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    seen["get_workflow_ms"] = {"p50": round(statistics.median(times), 2), "p95": round(times[46], 2),
                               "calls": len(times)}
    seen["execution_id"] = execution_id
    seen["workflow_id"] = wf["workflow_id"]
    return seen


def refused_without_a_key(url):
    """Without a key, and with a wrong one, /mcp answers 401 with WWW-Authenticate."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "nobody", "version": "0"}}}).encode()
    seen = {}
    for name, headers in [("no key", {}), ("wrong key", {"Authorization": "Bearer weir_wrong"})]:
        request = urllib.request.Request(f"{url}/mcp", data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                raise Failed(f"{name}: /mcp answered {r.status}")
        except urllib.error.HTTPError as e:
            check(e.code == 401, f"{name}: /mcp answers 401", e.code)
            check((e.headers.get("WWW-Authenticate") or "").startswith("Bearer"),
                  f"{name}: 401 with WWW-Authenticate: Bearer", dict(e.headers))
            seen[name] = e.code
    return seen


async def main():
    mode, url, expected = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    key = os.environ["WEIR_API_KEY"]
    if mode in ("http", "legacy"):
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"},
                                  timeout=httpx2.Timeout(30, read=300))
        async with http:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http),
                              mode="auto" if mode == "http" else "legacy",
                              client_info=types.Implementation(name=f"weir-mcp-test-{mode}", version="1")) as client:
                seen = await scenario(client, mode, expected)
                seen["protocol"] = client.session.protocol_version
            # The same call as REST, for comparison with the tool's.
            times = []
            for _ in range(50):
                t = time.perf_counter()
                r = await http.get(f"{url}/api/v1/workflows/{seen['workflow_id']}")
                check(r.status_code == 200, "GET the workflow over REST", r.status_code)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            seen["rest_get_workflow_ms"] = {"p50": round(statistics.median(times), 2),
                                            "p95": round(times[46], 2), "calls": len(times)}
        if mode == "http":
            seen["without_key"] = refused_without_a_key(url)
    else:
        params = StdioServerParameters(command=sys.argv[4], args=["mcp", "--server", url],
                                       env={"WEIR_API_KEY": key})
        async with Client(params, client_info=types.Implementation(name="weir-mcp-test-stdio", version="1")) as client:
            seen = await scenario(client, mode, expected)
    print(json.dumps(seen))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Failed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
