"""Structured outputs through real clients on every provider kind: the openai SDK's
`chat.completions.parse` / `.stream` with a pydantic model, LangChain's
`with_structured_output`, and `response_format: json_object`.

The emulator answers a structured request with an instance of the requested schema, so a
client that parses it into its model proves the schema reached the provider and the answer
came back as message content (on Anthropic and Bedrock, from the gateway's answer tool or
Anthropic's native output_config).
"""

import json
from typing import Literal, Optional

import openai
import pytest
from pydantic import BaseModel

from kinds import MODELS

# `claude-tool` routes to an Anthropic model the catalog does not list as taking schemas:
# the gateway uses the forced answer tool there, and native output_config on `claude`.
STRUCTURED_MODELS = MODELS + ["claude-tool"]


class Pet(BaseModel):
    kind: Literal["cat", "dog"]
    name: str


class Person(BaseModel):
    name: str
    age: int
    tags: list[str]
    pet: Pet
    nickname: Optional[str]


@pytest.fixture(scope="module")
def client(gateway):
    return openai.OpenAI(base_url=gateway["base_url"], api_key=gateway["key"], max_retries=0)


def check_person(p):
    assert isinstance(p, Person)
    assert isinstance(p.pet, Pet) and p.pet.kind in ("cat", "dog")
    assert len(p.tags) >= 1


@pytest.mark.conformance("chat", "structured_output")
@pytest.mark.parametrize("model", STRUCTURED_MODELS)
def test_parse(client, model):
    resp = client.chat.completions.parse(
        model=model,
        messages=[{"role": "user", "content": "Describe a person."}],
        response_format=Person,
        max_completion_tokens=200,
    )
    msg = resp.choices[0].message
    assert resp.choices[0].finish_reason == "stop"
    assert not msg.tool_calls
    check_person(msg.parsed)


@pytest.mark.parametrize("model", STRUCTURED_MODELS)
def test_parse_stream(client, model):
    deltas = 0
    with client.chat.completions.stream(
        model=model,
        messages=[{"role": "user", "content": "Describe a person."}],
        response_format=Person,
        max_completion_tokens=200,
    ) as stream:
        for event in stream:
            if event.type == "content.delta":
                deltas += 1
        final = stream.get_final_completion()
    assert deltas >= 2, "the JSON arrives in several fragments"
    assert final.choices[0].finish_reason == "stop"
    assert not final.choices[0].message.tool_calls
    check_person(final.choices[0].message.parsed)


@pytest.mark.conformance("chat", "json_object")
@pytest.mark.parametrize("model", STRUCTURED_MODELS)
def test_json_object(client, model):
    resp = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Answer in JSON."}],
        response_format={"type": "json_object"},
        max_completion_tokens=100,
    )
    assert isinstance(json.loads(resp.choices[0].message.content), dict)


@pytest.mark.parametrize("model", STRUCTURED_MODELS)
def test_langchain_with_structured_output(gateway, model):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model=model, base_url=gateway["base_url"], api_key=gateway["key"], max_retries=0)
    check_person(llm.with_structured_output(Person).invoke("Describe a person."))


def test_refusing_target_falls_back(client):
    """Anthropic cannot honour n=2; the route's OpenAI fallback can, so the request is served
    there instead of failing with a 400 before any attempt."""
    resp = client.chat.completions.create(
        model="claude-refuses",
        messages=[{"role": "user", "content": "Hi"}],
        n=2,
        max_completion_tokens=20,
    )
    assert resp.model.startswith("gpt-4o-mini")


def test_refusal_when_no_target_can(client):
    """With no target able to serve it, the first refusal is the answer, naming the parameter."""
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "Hi"}], n=2, max_completion_tokens=20
        )
    assert e.value.body.get("param") == "n"
