"""Starts the real gateway and emulator binaries on free loopback ports for the SDK suite.

Binaries come from SWITCHYARD_BIN / SWITCHYARD_EMULATOR_BIN (default: target/debug).
Processes are stopped by PID: SIGTERM, a short grace, then SIGKILL.
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

import conformance
import kinds

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "sk-sdk-test-key-0123"


def _bin(env, name):
    # Absolute, because the gateway runs from a scratch directory.
    return os.path.abspath(os.environ.get(env) or os.path.join(ROOT, "target", "debug", name))


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


CONFIG = """
server: {{ listen: "127.0.0.1:{port}", admin_listen: "127.0.0.1:{admin}", threads: 2, grace_period: 2s, access_log: off }}
providers:
{providers}routes:
{routes}  - {{ name: claude-broken, match: {{ model: "claude-broken" }}, targets: [ {{ provider: emu-anthropic, model: "claude-haiku-4-5#drop_after=6" }} ] }}
  - {{ name: claude-failover, match: {{ model: "claude-failover" }}, targets: [ {{ provider: emu-anthropic, model: "claude-haiku-4-5#status=529" }} ], fallback: [ {{ provider: emu-openai, model: "gpt-4o-mini" }} ] }}
  - {{ name: claude-tool, match: {{ model: "claude-tool" }}, targets: [ {{ provider: emu-anthropic, model: "claude-3-5-haiku-20241022" }} ] }}
  - {{ name: claude-refuses, match: {{ model: "claude-refuses" }}, targets: [ {{ provider: emu-anthropic, model: "claude-haiku-4-5" }} ], fallback: [ {{ provider: emu-openai, model: "gpt-4o-mini" }} ] }}
keys: [ {{ name: sdk, key: "{key}" }} ]
"""


@pytest.fixture(scope="session")
def gateway():
    emu_port, port, admin = free_port(), free_port(), free_port()
    emu = subprocess.Popen([_bin("SWITCHYARD_EMULATOR_BIN", "switchyard-emulator"), "--listen", f"127.0.0.1:{emu_port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gw = None
    try:
        wait_ready(f"http://127.0.0.1:{emu_port}/_emulator/health", emu)
        cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        cfg.write(CONFIG.format(port=port, admin=admin, emu=emu_port, key=KEY,
                                providers=kinds.providers_yaml(emu_port), routes=kinds.routes_yaml()))
        cfg.close()
        # Run from a scratch directory so the default ledger (./data/switchyard.db) stays out of the repo.
        gw = subprocess.Popen([_bin("SWITCHYARD_BIN", "switchyard"), "--config", cfg.name],
                              cwd=tempfile.mkdtemp(prefix="switchyard-sdk-"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(f"http://127.0.0.1:{port}/healthz", gw)
        yield {"base_url": f"http://127.0.0.1:{port}/v1", "key": KEY, "admin": f"http://127.0.0.1:{admin}"}
    finally:
        if gw is not None:
            stop(gw)
        stop(emu)




def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


# The conformance recorder: every test marked `conformance` reports its cells and outcome;
# the session writes them to target/conformance-sdk.json for scripts/conformance.py.
RESULTS = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "conformance(api, *features, levels=None, when_streamed=()): cells of docs/conformance.md this test proves"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    marker = item.get_closest_marker("conformance")
    if marker is None or rep.when != "call" and not (rep.when == "setup" and rep.failed):
        return
    params = getattr(item, "callspec", None)
    model = (params.params.get("model") if params else None) or marker.kwargs.get("model")
    kind = conformance.MODEL_KIND.get(model)
    if kind is None:
        return
    api, *features = marker.args
    if params and params.params.get("stream") is True:
        features += list(marker.kwargs.get("when_streamed", ()))
    level = (marker.kwargs.get("levels") or {}).get(kind) or conformance.default_level(kind, api)
    for feature in features:
        RESULTS.append({
            "feature": feature, "kind": kind, "api": api, "level": level,
            "test": f"{os.path.relpath(str(item.fspath), ROOT)}::{item.originalname}",
            "passed": rep.passed,
        })


def pytest_sessionfinish(session, exitstatus):
    if not RESULTS:
        return
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    with open(os.path.join(ROOT, "target", "conformance-sdk.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)
