"""Claude Code (the npm CLI) headless against the gateway, routed to the emulator's Anthropic,
OpenAI and Gemini kinds.

For each kind: `claude -p --output-format stream-json --verbose` with its default tools and a
prompt naming the Read tool. The emulator answers the first turn with a Read call and, once the
tool result comes back, with a final text. The test asserts exit status 0, a successful `result`
event, that a tool_use/tool_result round trip happened, and that every request reached the
emulator's wire format for that kind.

Usage: python3 tests/clients/claude_code.py [--keep-logs]
Env: CLAUDE_BIN (default .cache/clients/node_modules/.bin/claude), SWITCHYARD_BIN,
SWITCHYARD_EMULATOR_BIN (default target/debug). Loopback only; processes are stopped by PID.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "sk-claude-code-test-0123"
TIMEOUT = int(os.environ.get("CLAUDE_TIMEOUT", "120"))

# (model Claude Code asks for, provider, upstream model, emulator path that must see it)
KINDS = [
    ("claude-cc", "emu-anthropic", "claude-haiku-4-5", "/v1/messages"),
    ("gpt-cc", "emu-openai", "gpt-4o-mini", "/v1/chat/completions"),
    ("gemini-cc", "emu-gemini", "gemini-2.5-flash", ":streamGenerateContent"),
]

PROVIDERS = """
  - { name: emu-anthropic, kind: anthropic, base_url: "http://127.0.0.1:{emu}", api_key: up, first_byte_timeout: 10s, headers: { x-emulator: "call=Read" } }
  - { name: emu-openai, kind: openai, base_url: "http://127.0.0.1:{emu}/v1", api_key: up, first_byte_timeout: 10s, headers: { x-emulator: "call=Read" } }
  - { name: emu-gemini, kind: gemini, base_url: "http://127.0.0.1:{emu}", api_key: up, first_byte_timeout: 10s, headers: { x-emulator: "call=Read" } }
"""

CONFIG = """
server: {{ listen: "127.0.0.1:{port}", admin_listen: "127.0.0.1:{admin}", threads: 2, grace_period: 2s, access_log: off }}
providers:{providers}routes:
{routes}keys: [ {{ name: cc, key: "{key}" }} ]
"""


def _bin(env, *default):
    return os.path.abspath(os.environ.get(env) or os.path.join(ROOT, *default))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"not ready: {url}")


def stop(proc, grace=2.0):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def head_root(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def claude_env(port, model, config_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
    env.update(
        ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}",
        ANTHROPIC_AUTH_TOKEN=KEY,
        ANTHROPIC_MODEL=model,
        ANTHROPIC_DEFAULT_HAIKU_MODEL=model,
        ANTHROPIC_DEFAULT_SONNET_MODEL=model,
        ANTHROPIC_DEFAULT_OPUS_MODEL=model,
        ANTHROPIC_SMALL_FAST_MODEL=model,
        CLAUDE_CONFIG_DIR=config_dir,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        DISABLE_AUTOUPDATER="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        HOME=config_dir,
    )
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    return env


def run_claude(claude, port, model, workdir):
    config_dir = tempfile.mkdtemp(prefix="claude-config-")
    try:
        cmd = [claude, "-p", "--output-format", "stream-json", "--verbose", "--model", model,
               "--max-turns", "4",
               "Use the Read tool to read the file notes.txt in the current directory, then summarize it."]
        proc = subprocess.Popen(cmd, cwd=workdir, env=claude_env(port, model, config_dir),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            stop(proc)
            out, err = proc.communicate()
            err += f"\n[timed out after {TIMEOUT}s]"
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


def check(model, p, entries, path):
    events = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            events.append(json.loads(line))
    problems = []
    if p.returncode != 0:
        problems.append(f"exit status {p.returncode}")
    results = [e for e in events if e.get("type") == "result"]
    if not results or results[-1].get("subtype") != "success" or results[-1].get("is_error"):
        problems.append(f"no successful result event: {results[-1:] or 'none'}")
    tool_uses = [b for e in events if e.get("type") == "assistant"
                 for b in e.get("message", {}).get("content", []) if b.get("type") == "tool_use"]
    tool_results = [b for e in events if e.get("type") == "user"
                    for b in (e.get("message", {}).get("content") or []) if isinstance(b, dict)
                    and b.get("type") == "tool_result"]
    if not any(t.get("name") == "Read" for t in tool_uses):
        problems.append(f"no Read tool_use (saw {[t.get('name') for t in tool_uses]})")
    if not tool_results:
        problems.append("no tool_result sent back")
    hits = [e for e in entries if path in e.get("path", "")]
    if not hits:
        problems.append(f"the emulator saw no request on {path}")
    if problems:
        print(f"--- {model}: stdout ---\n{p.stdout[-4000:]}\n--- stderr ---\n{p.stderr[-2000:]}")
    return problems


def mid_conversation_system(body):
    """The upstream request carries a system instruction after the first turn: a `system`
    message after another role (Anthropic, OpenAI) or a `<system-reminder>` part (Gemini)."""
    if not isinstance(body, dict):
        return False
    roles = [m.get("role") for m in body.get("messages", [])]
    first_turn = next((i for i, r in enumerate(roles) if r != "system"), len(roles))
    if "system" in roles[first_turn + 1:]:
        return True
    return any("<system-reminder>" in p.get("text", "")[:20] for c in body.get("contents", [])
               for p in c.get("parts", []))


def main():
    claude = _bin("CLAUDE_BIN", ".cache", "clients", "node_modules", ".bin", "claude")
    if not os.path.exists(claude):
        print(f"claude not found at {claude} (make claude-code installs it)")
        return 1
    emu_port, port, admin = free_port(), free_port(), free_port()
    emu = subprocess.Popen([_bin("SWITCHYARD_EMULATOR_BIN", "target", "debug", "switchyard-emulator"),
                            "--listen", f"127.0.0.1:{emu_port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gw = None
    scratch = tempfile.mkdtemp(prefix="switchyard-cc-")
    failures = []
    try:
        wait_ready(f"http://127.0.0.1:{emu_port}/_emulator/health", emu)
        routes = "".join(
            f'  - {{ name: {m}, match: {{ model: "{m}" }}, targets: [ {{ provider: {prov}, model: "{up}" }} ] }}\n'
            for m, prov, up, _ in KINDS)
        cfg = os.path.join(scratch, "switchyard.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(port=port, admin=admin, key=KEY, routes=routes,
                                  providers=PROVIDERS.replace("{emu}", str(emu_port))))
        gw = subprocess.Popen([_bin("SWITCHYARD_BIN", "target", "debug", "switchyard"), "--config", cfg],
                              cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(f"http://127.0.0.1:{port}/healthz", gw)
        status, body = head_root(port)
        if status != 200 or body:
            failures.append(f"HEAD / answered {status} with {len(body)} body bytes")
        workdir = os.path.join(scratch, "project")
        os.makedirs(workdir)
        with open(os.path.join(workdir, "notes.txt"), "w") as f:
            f.write("The gateway under test is Switchyard.\n")
        for model, _, _, path in KINDS:
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{emu_port}/_emulator/requests", method="DELETE"), timeout=5).close()
            started = time.time()
            p = run_claude(claude, port, model, workdir)
            entries = get_json(f"http://127.0.0.1:{emu_port}/_emulator/requests")
            entries = entries.get("requests", entries) if isinstance(entries, dict) else entries
            problems = check(model, p, entries, path)
            mid = any(mid_conversation_system(e.get("body")) for e in entries)
            if "--keep-logs" in sys.argv:
                with open(os.path.join(scratch, f"{model}.requests.json"), "w") as f:
                    json.dump(entries, f, indent=1)
                print(f"logs in {scratch}")
            took = time.time() - started
            if problems:
                failures.append(f"{model}: " + "; ".join(problems))
                print(f"FAIL {model} ({took:.1f}s): {problems}")
            else:
                print(f"ok   {model} ({took:.1f}s, {len(entries)} upstream requests, "
                      f"mid-conversation system message upstream: {'yes' if mid else 'no'})")
    finally:
        if gw is not None:
            stop(gw)
        stop(emu)
        if "--keep-logs" not in sys.argv:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print("Claude Code test FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("Claude Code test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
