"""The official `openai` Python SDK against Switchyard: chat, streaming, tools, images, errors.

Every case runs against an Anthropic upstream (translated) and an OpenAI upstream (passed
through); the SDK's typed objects are the strict parser.
"""

import json

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

REPLY = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok"
from kinds import MODELS, NO_IMAGE_URLS
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def client(gateway):
    return openai.OpenAI(base_url=gateway["base_url"], api_key=gateway["key"], max_retries=0)


@pytest.mark.conformance("chat", "text", "usage")
@pytest.mark.parametrize("model", MODELS)
def test_chat(client, model):
    resp = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_completion_tokens=100,
    )
    assert isinstance(resp, ChatCompletion)
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.content == REPLY
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens == 11
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


@pytest.mark.parametrize("model", MODELS)
def test_chat_raw_headers(client, model):
    raw = client.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    assert raw.headers["x-switchyard-attempts"] == "1"
    assert raw.headers["x-switchyard-provider"].startswith("emu-")
    assert raw.parse().choices[0].message.content == REPLY


@pytest.mark.conformance("chat", "stream", "usage")
@pytest.mark.parametrize("model", MODELS)
def test_streaming_with_usage(client, model):
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], stream=True, stream_options={"include_usage": True}
    )
    text, finish, usage, ids = "", None, None, set()
    for chunk in stream:
        assert isinstance(chunk, ChatCompletionChunk)
        ids.add(chunk.id)
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert text == REPLY
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == 11
    assert len(ids) == 1


@pytest.mark.conformance("chat", "tools")
@pytest.mark.parametrize("model", MODELS)
def test_tool_calls(client, model):
    resp = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    msg = resp.choices[0].message
    assert resp.choices[0].finish_reason == "tool_calls"
    call = msg.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    follow = client.chat.completions.create(
        model=model,
        tools=TOOLS,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            msg.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"},
        ],
    )
    assert follow.choices[0].message.content == "Tool result received: 18 C and sunny"


@pytest.mark.conformance("chat", "streamed_tool_args")
@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_calls(client, model):
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Weather?"}], tools=TOOLS, stream=True
    )
    calls, finish = {}, None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": tc.id, "name": tc.function.name, "args": ""})
                if tc.id:
                    assert entry["id"] == tc.id
                entry["args"] += tc.function.arguments or ""
    assert finish == "tool_calls"
    assert calls[0]["id"] and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["args"]) == {"city": "Paris"}


def test_stream_helper_accumulates(client):
    with client.chat.completions.stream(model="claude", messages=[{"role": "user", "content": "Hi"}], tools=TOOLS) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


@pytest.mark.conformance("chat", "images")
@pytest.mark.parametrize("model", MODELS)
def test_images(client, model):
    parts = [
        {"type": "text", "text": "What is in these images?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    if model in NO_IMAGE_URLS:
        with pytest.raises(openai.BadRequestError) as br:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": parts}])
        assert br.value.param == "messages[0].content[2].image_url"
        resp = client.chat.completions.create(model=model, messages=[{"role": "user", "content": parts[:2]}])
        assert resp.choices[0].message.content.startswith("I see 1 image(s).")
        return
    resp = client.chat.completions.create(model=model, messages=[{"role": "user", "content": parts}])
    assert resp.choices[0].message.content.startswith("I see 2 image(s).")


def test_models(client):
    ids = [m.id for m in client.models.list()]
    assert "claude" in ids and "gpt" in ids


def test_failover_is_invisible(client):
    resp = client.chat.completions.create(model="claude-failover", messages=[{"role": "user", "content": "Hi"}])
    assert resp.choices[0].message.content == REPLY


def test_errors_are_typed(gateway, client):
    bad = openai.OpenAI(base_url=gateway["base_url"], api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="claude", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert nf.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as br:
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "Hi"}], temperature=9)
    assert br.value.param == "temperature"


@pytest.mark.conformance("chat", "stream_errors", model="claude-broken")
def test_broken_stream_raises(client):
    stream = client.chat.completions.create(model="claude-broken", messages=[{"role": "user", "content": "Hi"}], stream=True)
    got = ""
    with pytest.raises(openai.APIError) as err:
        for chunk in stream:
            for choice in chunk.choices:
                got += choice.delta.content or ""
    assert "mid-stream" in str(err.value) or "ended the stream" in str(err.value)
    assert got != REPLY
