"""Fidelity cases the conformance matrix needs beyond the per-SDK suites: stop sequences through
both client APIs, and structured output through the Messages API (`output_config.format`),
on every provider kind."""

import json

import anthropic
import openai
import pytest
from pydantic import BaseModel

from kinds import MODELS

REPLY = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok"
CUT = REPLY[: REPLY.index("wörld")]


@pytest.fixture(scope="module")
def oai(gateway):
    return openai.OpenAI(base_url=gateway["base_url"], api_key=gateway["key"], max_retries=0)


@pytest.fixture(scope="module")
def ant(gateway):
    root = gateway["base_url"].removesuffix("/v1")
    return anthropic.Anthropic(base_url=root, api_key=gateway["key"], max_retries=0)


@pytest.mark.conformance("chat", "stop_sequences")
@pytest.mark.parametrize("model", MODELS)
def test_chat_stop_sequence(oai, model):
    resp = oai.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], stop=["wörld"], max_completion_tokens=100
    )
    assert resp.choices[0].message.content == CUT
    assert resp.choices[0].finish_reason == "stop"


@pytest.mark.conformance("messages", "stop_sequences")
@pytest.mark.parametrize("model", MODELS)
def test_messages_stop_sequence(ant, model):
    msg = ant.messages.create(
        model=model, max_tokens=100, stop_sequences=["wörld"], messages=[{"role": "user", "content": "Hi"}]
    )
    assert "".join(b.text for b in msg.content if b.type == "text") == CUT
    # Translated answers cannot say which sequence matched (OpenAI-format answers do not).
    assert msg.stop_reason in ("stop_sequence", "end_turn")


class City(BaseModel):
    name: str
    population: int
    rivers: list[str]


@pytest.mark.conformance("messages", "structured_output")
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("stream", [False, True])
def test_messages_output_config(ant, model, stream):
    schema = City.model_json_schema()
    schema["additionalProperties"] = False
    kwargs = dict(
        model=model,
        max_tokens=200,
        messages=[{"role": "user", "content": "Describe a city."}],
        extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}},
    )
    if stream:
        with ant.messages.stream(**kwargs) as s:
            msg = s.get_final_message()
    else:
        msg = ant.messages.create(**kwargs)
    text = "".join(b.text for b in msg.content if b.type == "text")
    City.model_validate(json.loads(text))
    assert not [b for b in msg.content if b.type == "tool_use"]


@pytest.mark.conformance("messages", "images")
@pytest.mark.parametrize("model", MODELS)
def test_messages_image(ant, model):
    from test_openai_sdk import PNG

    msg = ant.messages.create(
        model=model,
        max_tokens=100,
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "text", "text": "What is in this image?"},
        ]}],
    )
    assert "".join(b.text for b in msg.content if b.type == "text").startswith("I see 1 image(s).")
