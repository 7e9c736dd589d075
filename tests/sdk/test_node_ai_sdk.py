"""The Vercel AI SDK's generateObject / streamObject (tests/node, installed by
`make node-deps`) against the gateway on every provider kind."""

import json
import os
import shutil
import subprocess

import pytest

from test_structured import STRUCTURED_MODELS

NODE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "node")


def test_ai_sdk_generate_object(gateway):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "ai")) or shutil.which("node") is None:
        pytest.fail("the AI SDK is not installed: run `make node-deps`")
    env = dict(os.environ, SWITCHYARD_BASE_URL=gateway["base_url"], SWITCHYARD_KEY=gateway["key"],
               SWITCHYARD_MODELS=json.dumps(STRUCTURED_MODELS))
    r = subprocess.run(["node", "--test", "structured.test.mjs"], cwd=NODE_DIR, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    # Two cases per model plus the sanity case, all run and passed.
    assert f"# pass {2 * len(STRUCTURED_MODELS) + 1}" in r.stdout, r.stdout[-2000:]
    assert "# fail 0" in r.stdout
