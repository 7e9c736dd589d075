"""The official `anthropic` Python SDK against Switchyard's Messages API inbound.

Every case runs against every provider kind in kinds.py: Anthropic targets are passed
through, every other kind is translated from and back to the Messages format. The SDK's typed
objects and its stream accumulator are the strict parser.
"""

import anthropic
import pytest
from anthropic.types import Message

from kinds import MODELS

REPLY = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok"
TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture(scope="module")
def client(gateway):
    root = gateway["base_url"].removesuffix("/v1")
    return anthropic.Anthropic(base_url=root, api_key=gateway["key"], max_retries=0)


def text_of(msg):
    return "".join(b.text for b in msg.content if b.type == "text")


@pytest.mark.conformance("messages", "text", "usage")
@pytest.mark.parametrize("model", MODELS)
def test_text(client, model):
    msg = client.messages.create(
        model=model, max_tokens=100, system="Be brief.", messages=[{"role": "user", "content": "Hi"}]
    )
    assert isinstance(msg, Message)
    assert msg.role == "assistant" and msg.type == "message"
    assert text_of(msg) == REPLY
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens == 11


@pytest.mark.conformance("messages", "stream", "usage")
@pytest.mark.parametrize("model", MODELS)
def test_stream_final_message(client, model):
    with client.messages.stream(
        model=model, max_tokens=100, messages=[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == REPLY
    assert text_of(final) == REPLY
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens == 11


@pytest.mark.parametrize("model", MODELS)
def test_stream_raw_events(client, model):
    events = list(
        client.messages.create(model=model, max_tokens=100, messages=[{"role": "user", "content": "Hi"}], stream=True)
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert kinds.count("message_start") == 1 and kinds.count("message_stop") == 1
    assert "message_delta" in kinds
    open_blocks = set()
    for e in events:
        if e.type == "content_block_start":
            assert not open_blocks, "blocks are opened one at a time"
            open_blocks.add(e.index)
        elif e.type == "content_block_delta":
            assert e.index in open_blocks
        elif e.type == "content_block_stop":
            open_blocks.remove(e.index)
    assert not open_blocks
    deltas = "".join(e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta")
    assert deltas == REPLY


@pytest.mark.conformance("messages", "tools", when_streamed=("streamed_tool_args",))
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("stream", [False, True])
def test_tool_round_trip(client, model, stream):
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    if stream:
        with client.messages.stream(model=model, max_tokens=200, tools=TOOLS, messages=messages) as s:
            first = s.get_final_message()
    else:
        first = client.messages.create(model=model, max_tokens=200, tools=TOOLS, messages=messages)
    assert first.stop_reason == "tool_use"
    uses = [b for b in first.content if b.type == "tool_use"]
    assert len(uses) == 1
    assert uses[0].name == "get_weather"
    assert isinstance(uses[0].input, dict) and isinstance(uses[0].input.get("city"), str)
    assert uses[0].id
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "18 degrees and sunny"}],
        },
    ]
    final = client.messages.create(model=model, max_tokens=200, tools=TOOLS, messages=messages)
    assert final.stop_reason == "end_turn"
    # The emulator echoes the tool result it received, proving it arrived as one.
    assert text_of(final) == "Tool result received: 18 degrees and sunny"


@pytest.mark.parametrize("model", MODELS)
def test_count_tokens(client, model):
    short = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "Hi"}])
    long = client.messages.count_tokens(
        model=model,
        system="You are a helpful assistant that answers questions about the weather.",
        tools=TOOLS,
        messages=[{"role": "user", "content": "What is the weather like in Paris, Lyon and Marseille today?"}],
    )
    assert short.input_tokens > 0
    assert long.input_tokens > short.input_tokens


@pytest.mark.parametrize("model", MODELS)
def test_errors(client, gateway, model):
    root = gateway["base_url"].removesuffix("/v1")
    bad_key = anthropic.Anthropic(base_url=root, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as e:
        bad_key.messages.create(model=model, max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.body["error"]["type"] == "authentication_error"
    assert e.value.response.headers.get("request-id")
    with pytest.raises(anthropic.NotFoundError) as e:
        client.messages.create(model=f"{model}-nope", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.create(model=model, max_tokens=10, messages="not a list")
    assert e.value.body["error"]["type"] == "invalid_request_error"
