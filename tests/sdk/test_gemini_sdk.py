"""The official `openai` SDK against a thinking Gemini model (emulated): the tool-call id the
SDK hands back carries Gemini's thought signature, so a follow-up built from the SDK's own
message objects is accepted; a blocked prompt raises BadRequestError with code content_filter.
"""

import json
import subprocess
import tempfile

import openai
import pytest

from conftest import KEY, _bin, free_port, stop, wait_ready

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "additionalProperties": False, "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]

CONFIG = """
server: {{ listen: "127.0.0.1:{port}", admin_listen: "127.0.0.1:{admin}", threads: 2, grace_period: 2s, access_log: off }}
providers:
  - {{ name: emu-gemini, kind: gemini, base_url: "http://127.0.0.1:{emu}", api_key: "g-key", first_byte_timeout: 5s }}
routes:
  - {{ name: thinker, match: {{ model: "thinker" }}, targets: [ {{ provider: emu-gemini, model: "gemini-3-pro#thinking=1" }} ] }}
  - {{ name: blocked, match: {{ model: "blocked" }}, targets: [ {{ provider: emu-gemini, model: "gemini-2.5-flash#block=SAFETY" }} ] }}
keys: [ {{ name: sdk, key: "{key}" }} ]
"""


@pytest.fixture(scope="module")
def client():
    emu_port, port, admin = free_port(), free_port(), free_port()
    emu = subprocess.Popen([_bin("SWITCHYARD_EMULATOR_BIN", "switchyard-emulator"), "--listen", f"127.0.0.1:{emu_port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gw = None
    try:
        wait_ready(f"http://127.0.0.1:{emu_port}/_emulator/health", emu)
        cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        cfg.write(CONFIG.format(port=port, admin=admin, emu=emu_port, key=KEY))
        cfg.close()
        gw = subprocess.Popen([_bin("SWITCHYARD_BIN", "switchyard"), "--config", cfg.name],
                              cwd=tempfile.mkdtemp(prefix="switchyard-sdk-"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(f"http://127.0.0.1:{port}/healthz", gw)
        yield openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
    finally:
        if gw is not None:
            stop(gw)
        stop(emu)


@pytest.mark.conformance("chat", "thinking_round_trip", model="thinker")
@pytest.mark.parametrize("stream", [False, True])
def test_signature_survives_sdk_round_trip(client, stream):
    ask = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        with client.chat.completions.stream(model="thinker", messages=ask, tools=TOOLS) as s:
            msg = s.get_final_completion().choices[0].message
    else:
        msg = client.chat.completions.create(model="thinker", messages=ask, tools=TOOLS).choices[0].message
    call = msg.tool_calls[0]
    assert "__thought__" in call.id
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    follow = client.chat.completions.create(
        model="thinker", tools=TOOLS,
        messages=ask + [msg.model_dump(exclude_none=True),
                        {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"}])
    assert follow.choices[0].message.content == "Tool result received: 18 C and sunny"
    with pytest.raises(openai.BadRequestError) as err:
        stripped = call.id.split("__thought__")[0]
        dumped = msg.model_dump(exclude_none=True)
        dumped["tool_calls"][0]["id"] = stripped
        client.chat.completions.create(
            model="thinker", tools=TOOLS,
            messages=ask + [dumped, {"role": "tool", "tool_call_id": stripped, "content": "18 C"}])
    assert "thought_signature" in str(err.value)


@pytest.mark.conformance("chat", "reasoning", model="thinker")
def test_reasoning_is_exposed(client):
    resp = client.chat.completions.create(model="thinker", messages=[{"role": "user", "content": "Hi"}])
    extra = resp.choices[0].message.model_extra or {}
    assert extra.get("reasoning_content")
    assert resp.usage.completion_tokens_details.reasoning_tokens > 0
    assert resp.usage.completion_tokens == 11 + resp.usage.completion_tokens_details.reasoning_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_blocked_prompt_is_bad_request(client, stream):
    with pytest.raises(openai.BadRequestError) as err:
        r = client.chat.completions.create(model="blocked", messages=[{"role": "user", "content": "x"}], stream=stream)
        if stream:
            list(r)
    assert err.value.code == "content_filter"
    assert "SAFETY" in str(err.value)
