#!/usr/bin/env python3
"""End-to-end smoke test of a running switchyard-emulator (stdlib only).

Usage: python3 tests/emulator/smoke.py [http://127.0.0.1:9000]
"""
import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.parse

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9000"
U = urllib.parse.urlparse(BASE)
HOST, PORT = U.hostname, U.port or 80
OA = {"authorization": "Bearer test", "content-type": "application/json"}
AN = {"x-api-key": "test", "anthropic-version": "2023-06-01", "content-type": "application/json"}
PASSED = FAILED = 0


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print(f"FAIL {name} {detail}")


def req(method, path, body=None, headers=None, conn=None):
    c = conn or http.client.HTTPConnection(HOST, PORT, timeout=10)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    c.request(method, path, body=data, headers=headers or {})
    r = c.getresponse()
    raw = r.read()
    return r, raw


def sse(raw):
    """Parse an SSE body into (event, data) pairs with a real line-based parser."""
    out, ev, data = [], None, []
    for line in raw.decode().split("\n"):
        if line == "":
            if data:
                out.append((ev, "\n".join(data)))
            ev, data = None, []
        elif line.startswith("event:"):
            ev = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    return out


def raw_chunks(path, body, headers):
    """Send a request over a raw socket; return (header bytes, list of chunk payloads, terminated?)."""
    s = socket.create_connection((HOST, PORT), timeout=10)
    data = json.dumps(body).encode()
    hdr = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    s.sendall(f"POST {path} HTTP/1.1\r\nhost: x\r\n{hdr}content-length: {len(data)}\r\nconnection: close\r\n\r\n".encode() + data)
    buf = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        buf += d
    s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    chunks, terminated = [], False
    while rest:
        line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(line, 16)
        if size == 0:
            terminated = True
            break
        chunks.append(rest[:size])
        rest = rest[size + 2:]
    return head, chunks, terminated


def oa_body(model="gpt-4o-mini", **kw):
    b = {"model": model, "messages": [{"role": "user", "content": "What is the weather in Paris?"}]}
    b.update(kw)
    return b


def an_body(model="claude-haiku-4-5", **kw):
    b = {"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": "What is the weather?"}]}
    b.update(kw)
    return b


OA_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"]}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}]
AN_TOOLS = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]

req("DELETE", "/_emulator/requests")

# --- OpenAI plain + streaming -------------------------------------------------
r, raw = req("POST", "/v1/chat/completions", oa_body(), OA)
v = json.loads(raw)
check("oa plain status", r.status == 200 and r.getheader("content-length") == str(len(raw)))
check("oa plain text", v["choices"][0]["message"]["content"] == "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok", v)
check("oa plain usage", v["usage"]["completion_tokens"] == 11 and v["usage"]["total_tokens"] == v["usage"]["prompt_tokens"] + 11)
r, raw = req("POST", "/v1/chat/completions", oa_body(stream=True, stream_options={"include_usage": True}), OA)
ev = sse(raw)
check("oa stream ctype", r.getheader("content-type") == "text/event-stream" and r.getheader("transfer-encoding") == "chunked")
check("oa stream done", ev[-1][1] == "[DONE]")
chunks = [json.loads(d) for _, d in ev[:-1]]
check("oa stream same id", len({c["id"] for c in chunks}) == 1 and len({c["created"] for c in chunks}) == 1)
check("oa stream text", "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok")
check("oa stream usage chunk", chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 11)

# --- OpenAI tool calls (parallel, streamed) -------------------------------------
r, raw = req("POST", "/v1/chat/completions", oa_body("gpt-4o#tool=parallel", tools=OA_TOOLS, stream=True), OA)
args = {}
for _, d in sse(raw)[:-1]:
    c = json.loads(d)
    for tc in c["choices"][0]["delta"].get("tool_calls", []):
        args[tc["index"]] = args.get(tc["index"], "") + tc["function"]["arguments"]
check("oa parallel tools", {k: json.loads(a) for k, a in args.items()} == {0: {"city": "Paris", "days": 42}, 1: {"tz": "Paris"}}, args)
r, raw = req("POST", "/v1/chat/completions", oa_body(tools=OA_TOOLS, tool_choice={"type": "function", "function": {"name": "get_time"}}), OA)
m = json.loads(raw)["choices"][0]
check("oa forced tool", m["finish_reason"] == "tool_calls" and m["message"]["content"] is None and m["message"]["tool_calls"][0]["function"]["name"] == "get_time")
follow = oa_body(tools=OA_TOOLS)
follow["messages"] += [{"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
                       {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":18}"}]
r, raw = req("POST", "/v1/chat/completions", follow, OA)
check("oa tool result reply", json.loads(raw)["choices"][0]["message"]["content"] == "Tool result received: {\"temp_c\":18}")

# --- Anthropic plain + streaming + tools ---------------------------------------
r, raw = req("POST", "/v1/messages", an_body(), AN)
v = json.loads(raw)
check("an plain", r.status == 200 and v["type"] == "message" and v["content"][0]["text"].startswith("Hello") and r.getheader("request-id", "").startswith("req_emu"), raw)
r, raw = req("POST", "/v1/messages", an_body(stream=True, tools=AN_TOOLS), AN)
ev = sse(raw)
names = [e for e, _ in ev]
check("an stream order", names[:3] == ["message_start", "content_block_start", "ping"] and names[-2:] == ["message_delta", "message_stop"], names)
parts = "".join(json.loads(d)["delta"].get("partial_json", "") for e, d in ev if e == "content_block_delta")
check("an tool json", json.loads(parts) == {"city": "Paris"}, parts)
check("an data types", all(json.loads(d)["type"] == e for e, d in ev))

# --- split=7 reassembles to the same events --------------------------------------
body = an_body("claude-haiku-4-5#split=7;thinking=1", stream=True)
_, pieces, term = raw_chunks("/v1/messages", body, AN)
check("split sizes", all(len(p) == 7 for p in pieces[:-1]) and 0 < len(pieces[-1]) <= 7 and term)
_, whole, _ = raw_chunks("/v1/messages", an_body("claude-haiku-4-5#thinking=1", stream=True), AN)
norm = lambda b: [(e, json.loads(d).get("type")) for e, d in sse(b)]
check("split reassembles", norm(b"".join(pieces)) == norm(b"".join(whole)) and len(whole) > 10)

# --- drop_after (curl error 18) / error_after ------------------------------------
def curl(*args):
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args], capture_output=True, text=True)

res = curl("-H", "authorization: Bearer k", "-d", json.dumps(oa_body("gpt-4o#drop_after=3", stream=True)), BASE + "/v1/chat/completions")
check("drop_after stream curl 18", res.returncode == 18, res)
res = curl("-H", "authorization: Bearer k", "-d", json.dumps(oa_body("gpt-4o#drop_after=20")), BASE + "/v1/chat/completions")
check("drop_after plain curl 18", res.returncode == 18, res)
_, ch, term = raw_chunks("/v1/chat/completions", oa_body("gpt-4o#drop_after=3", stream=True), OA)
check("drop_after 3 events", len(sse(b"".join(ch))) == 3 and not term)
_, ch, term = raw_chunks("/v1/messages", an_body("claude-haiku-4-5#error_after=2", stream=True), AN)
ev = sse(b"".join(ch))
check("an error_after", term and len(ev) == 3 and ev[-1][0] == "error" and json.loads(ev[-1][1])["error"]["type"] == "overloaded_error", ev)
_, ch, term = raw_chunks("/v1/chat/completions", oa_body("gpt-4o#error_after=0", stream=True), OA)
ev = sse(b"".join(ch))
check("oa error_after=0", term and len(ev) == 1 and "error" in json.loads(ev[0][1]))

# --- status / retry_after / ttfb / fail_first ------------------------------------
r, raw = req("POST", "/v1/messages", an_body("claude-haiku-4-5#status=529;retry_after=2"), AN)
v = json.loads(raw)
check("529 retry_after", r.status == 529 and r.getheader("retry-after") == "2" and v["error"]["type"] == "overloaded_error" and v["request_id"].startswith("req_emu"), raw)
r, raw = req("POST", "/v1/chat/completions", oa_body(), {**OA, "x-emulator": "status=429;retry_after=1"})
v = json.loads(raw)["error"]
check("oa 429 via header", r.status == 429 and v["code"] == "rate_limit_exceeded" and set(v) == {"message", "type", "param", "code"})
t = time.time()
r, _ = req("POST", "/v1/chat/completions", oa_body("gpt-4o#ttfb_ms=300"), OA)
check("ttfb", time.time() - t >= 0.3 and r.status == 200)
t = time.time()
r, raw = req("POST", "/v1/messages", an_body("claude-haiku-4-5#chunk_ms=20", stream=True), AN)
check("chunk_ms", time.time() - t >= 0.2)
codes = [req("POST", "/v1/chat/completions", oa_body("gpt-4o#fail_first=2"), OA)[0].status for _ in range(4)]
check("fail_first", codes == [500, 500, 200, 200], codes)
codes = [req("POST", "/v1/messages", an_body("claude-haiku-4-5#fail_first=1;status=503"), AN)[0].status for _ in range(2)]
check("fail_first status", codes == [503, 200], codes)

# --- hang / refuse / unknown directive / validation ------------------------------
t = time.time()
res = subprocess.run(["curl", "-s", "-H", "authorization: Bearer k", "-d", json.dumps(oa_body("gpt-4o#hang_ms=300")), BASE + "/v1/chat/completions"], capture_output=True)
check("hang closes", res.returncode == 52 and time.time() - t >= 0.3, res)
res = subprocess.run(["curl", "-s", "-H", "authorization: Bearer k", "-d", json.dumps(oa_body("gpt-4o#fail_rate=1;fail_modes=refuse")), BASE + "/v1/chat/completions"], capture_output=True)
check("refuse", res.returncode == 52, res)
r, raw = req("POST", "/v1/chat/completions", oa_body("gpt-4o#bogus=1"), OA)
check("unknown directive", r.status == 400 and "bogus" in json.loads(raw)["error"]["message"])
r, raw = req("POST", "/v1/chat/completions", oa_body(), {"content-type": "application/json"})
check("oa 401", r.status == 401 and json.loads(raw)["error"]["code"] == "invalid_api_key")
r, raw = req("POST", "/v1/messages", an_body(), {"anthropic-version": "2023-06-01"})
check("an 401", r.status == 401 and json.loads(raw)["error"]["type"] == "authentication_error")
r, raw = req("POST", "/v1/messages", an_body(), {"x-api-key": "k"})
check("an version", r.status == 400)
r, raw = req("POST", "/v1/messages", b"{not json", AN)
check("an bad json", r.status == 400 and json.loads(raw)["error"]["type"] == "invalid_request_error")
bad = an_body()
bad["messages"] = [{"role": "user", "content": "q"}, {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]}, {"role": "user", "content": "x"}]
r, raw = req("POST", "/v1/messages", bad, AN)
check("an tool pairing", r.status == 400 and "`tool_use` ids were found without `tool_result`" in json.loads(raw)["error"]["message"])
r, raw = req("POST", "/v1/messages", an_body(max_tokens=3), AN)
check("an max_tokens", json.loads(raw)["stop_reason"] == "max_tokens")
r, raw = req("POST", "/v1/messages", an_body(stop_sequences=["Switch"]), AN)
v = json.loads(raw)
check("an stop_sequence", v["stop_reason"] == "stop_sequence" and v["stop_sequence"] == "Switch" and v["content"][0]["text"] == "Hello from the ")
r, raw = req("GET", "/v1/models")
check("models", r.status == 200 and json.loads(raw)["object"] == "list")

# --- Expect: 100-continue, big body ---------------------------------------------
big = oa_body(messages=[{"role": "user", "content": "x" * 300_000}])
res = subprocess.run(["curl", "-s", "-H", "authorization: Bearer k", "-H", "Expect: 100-continue", "-H", "content-type: application/json", "--data-binary", "@-", BASE + "/v1/chat/completions"], input=json.dumps(big).encode(), capture_output=True)
check("100-continue big body", res.returncode == 0 and json.loads(res.stdout)["usage"]["prompt_tokens"] == 75_000 + 10, res.stdout[:200])

# --- keep-alive -----------------------------------------------------------------
res = subprocess.run(["curl", "-sv", "-o", "/dev/null", "-o", "/dev/null", BASE + "/_emulator/health", BASE + "/v1/models"], capture_output=True, text=True)
check("curl keep-alive", "Re-using existing connection" in res.stderr or "Reusing existing" in res.stderr, res.stderr[-400:])
c = http.client.HTTPConnection(HOST, PORT, timeout=10)
for i in range(3):
    r, raw = req("POST", "/v1/messages", an_body(stream=i == 1), AN, conn=c)
    check(f"keep-alive reuse {i}", r.status == 200)

# --- recording --------------------------------------------------------------------
r, raw = req("GET", "/_emulator/requests")
log = json.loads(raw)
check("requests log", any(e["body"] and e["body"].get("model") == "gpt-4o#fail_first=2" for e in log) and all("headers" in e and "seq" in e for e in log))
check("requests headers", any(e["headers"].get("x-emulator") == "status=429;retry_after=1" for e in log))
r, raw = req("GET", "/_emulator/stats")
st = json.loads(raw)
check("stats", st["by_model"].get("gpt-4o#fail_first=2") == 4 and st["total"] == len(log), st)
req("DELETE", "/_emulator/requests")
check("cleared", json.loads(req("GET", "/_emulator/requests")[1]) == [])
codes = [req("POST", "/v1/chat/completions", oa_body("gpt-4o#fail_first=1"), OA)[0].status for _ in range(2)]
check("fail_first reset", codes == [500, 200], codes)

print(f"{PASSED} passed, {FAILED} failed")
sys.exit(1 if FAILED else 0)
