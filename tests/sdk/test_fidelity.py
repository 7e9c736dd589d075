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


TOOLS_OAI = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]}}},
]
TOOLS_ANT = [
    {"name": t["function"]["name"], "input_schema": t["function"]["parameters"]} for t in TOOLS_OAI
]


@pytest.mark.conformance("chat", "parallel_tools")
@pytest.mark.parametrize("model", MODELS)
def test_chat_parallel_tools(oai, model):
    resp = oai.chat.completions.create(
        model=f"{model}-par", messages=[{"role": "user", "content": "Weather and time in Paris?"}], tools=TOOLS_OAI
    )
    calls = resp.choices[0].message.tool_calls
    assert resp.choices[0].finish_reason == "tool_calls"
    assert sorted(c.function.name for c in calls) == ["get_time", "get_weather"]
    assert len({c.id for c in calls}) == 2
    for c in calls:
        assert isinstance(json.loads(c.function.arguments), dict)


@pytest.mark.conformance("messages", "parallel_tools")
@pytest.mark.parametrize("model", MODELS)
def test_messages_parallel_tools(ant, model):
    msg = ant.messages.create(
        model=f"{model}-par", max_tokens=200, tools=TOOLS_ANT,
        messages=[{"role": "user", "content": "Weather and time in Paris?"}],
    )
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert msg.stop_reason == "tool_use"
    assert sorted(u.name for u in uses) == ["get_time", "get_weather"]
    assert len({u.id for u in uses}) == 2


@pytest.mark.conformance("chat", "error_mapping")
@pytest.mark.parametrize("model", MODELS)
def test_chat_provider_error(oai, model):
    """A provider's own 400 reaches an OpenAI client as a typed 400 in OpenAI's shape."""
    with pytest.raises(openai.BadRequestError) as e:
        oai.chat.completions.create(model=f"{model}-e400", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 400
    assert isinstance(e.value.body, dict) and e.value.body.get("message")


@pytest.mark.conformance("messages", "error_mapping")
@pytest.mark.parametrize("model", MODELS)
def test_messages_provider_error(ant, model):
    """…and an Anthropic client as a typed 400 in Anthropic's shape."""
    with pytest.raises(anthropic.BadRequestError) as e:
        ant.messages.create(model=f"{model}-e400", max_tokens=50, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "invalid_request_error"


@pytest.mark.conformance("chat", "stream_errors")
@pytest.mark.parametrize("model", MODELS)
def test_chat_cut_stream_raises(oai, model):
    """An upstream that drops mid-stream ends the client's stream with an error, never a clean end."""
    stream = oai.chat.completions.create(
        model=f"{model}-cut", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    got = ""
    with pytest.raises(openai.APIError):
        for chunk in stream:
            for choice in chunk.choices:
                got += choice.delta.content or ""
    assert got != REPLY


@pytest.mark.conformance("messages", "stream_errors")
@pytest.mark.parametrize("model", MODELS)
def test_messages_cut_stream_raises(ant, model):
    with pytest.raises(anthropic.APIError):
        with ant.messages.stream(
            model=f"{model}-cut", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
        ) as s:
            for _ in s.text_stream:
                pass
            s.get_final_message()


# Ollama's API has no cache fields: cached tokens arrive folded into the prompt count.
NO_CACHE_FIELDS = {"ollama"}


@pytest.mark.conformance("chat", "cache_tokens", levels={"ollama": "lossy"})
@pytest.mark.parametrize("model", MODELS)
def test_chat_cache_tokens(oai, model):
    resp = oai.chat.completions.create(model=f"{model}-cache", messages=[{"role": "user", "content": "Hi"}])
    details = resp.usage.prompt_tokens_details
    cached = details.cached_tokens if details else 0
    assert cached == (0 if model in NO_CACHE_FIELDS else 5)
    assert resp.usage.prompt_tokens >= 5


@pytest.mark.conformance("messages", "cache_tokens", levels={"ollama": "lossy"})
@pytest.mark.parametrize("model", MODELS)
def test_messages_cache_tokens(ant, model):
    msg = ant.messages.create(model=f"{model}-cache", max_tokens=50, messages=[{"role": "user", "content": "Hi"}])
    assert (msg.usage.cache_read_input_tokens or 0) == (0 if model in NO_CACHE_FIELDS else 5)
