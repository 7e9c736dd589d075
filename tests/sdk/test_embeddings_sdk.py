"""The official `openai` SDK's embeddings API against every provider kind that embeds."""

import base64
import math
import struct

import openai
import pytest
from openai.types import CreateEmbeddingResponse

from kinds import EMBEDDINGS

MODELS = [e[0] for e in EMBEDDINGS]


@pytest.fixture(scope="module")
def client(gateway):
    return openai.OpenAI(base_url=gateway["base_url"], api_key=gateway["key"], max_retries=0)


@pytest.mark.conformance("chat", "embeddings")
@pytest.mark.parametrize("model", MODELS)
def test_embeddings_float(client, model):
    resp = client.embeddings.create(model=model, input=["the cat sat", "a dog ran far away"], encoding_format="float")
    assert isinstance(resp, CreateEmbeddingResponse)
    assert [d.index for d in resp.data] == [0, 1]
    a, b = resp.data[0].embedding, resp.data[1].embedding
    assert len(a) == len(b) > 0
    assert a != b
    assert math.isclose(math.sqrt(sum(x * x for x in a)), 1.0, rel_tol=1e-3)
    # Same text, same vector: the gateway does not perturb values.
    again = client.embeddings.create(model=model, input="the cat sat", encoding_format="float")
    assert again.data[0].embedding == pytest.approx(a, rel=1e-6)
    assert resp.usage.prompt_tokens >= 0


@pytest.mark.parametrize("model", MODELS)
def test_embeddings_base64_default(client, model):
    # The SDK asks for base64 by default and decodes it; values must match the float form.
    resp = client.embeddings.create(model=model, input="the cat sat")
    floats = client.embeddings.create(model=model, input="the cat sat", encoding_format="float")
    assert resp.data[0].embedding == pytest.approx(floats.data[0].embedding, rel=1e-6)
    raw = client.embeddings.with_raw_response.create(model=model, input="x", encoding_format="base64")
    b64 = raw.http_response.json()["data"][0]["embedding"]
    assert isinstance(b64, str) and len(base64.b64decode(b64)) % 4 == 0
    struct.unpack(f"<{len(base64.b64decode(b64)) // 4}f", base64.b64decode(b64))


def test_embeddings_bad_input(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model=MODELS[0], input=[])
    assert e.value.body["param"] == "input"
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="no-such-embedding-model", input="x")
