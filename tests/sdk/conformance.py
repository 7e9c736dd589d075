"""The conformance matrix's vocabulary, shared by the SDK suite's recorder (conftest.py) and
the generator (scripts/conformance.py).

A test claims cells with `@pytest.mark.conformance(api, feature, ..., levels={kind: level})`:
`api` is `chat` (the OpenAI API: chat completions and embeddings) or `messages` (the Anthropic
Messages API); each feature is a row id below; the kind comes from the test's `model`
parameter. The level of a passing cell is `native` when the client's API is the provider's own
(pass-through), `translated` otherwise, unless `levels` says `lossy` or `rejected` for a kind.
"""

FEATURES = [
    ("text", "Text"),
    ("stream", "Streaming"),
    ("tools", "Tools"),
    ("streamed_tool_args", "Streamed tool arguments"),
    ("parallel_tools", "Parallel tool calls"),
    ("images", "Images"),
    ("structured_output", "Structured output (json_schema)"),
    ("json_object", "json_object"),
    ("reasoning", "Reasoning"),
    ("thinking_round_trip", "Thinking round trip (signatures)"),
    ("cache_tokens", "Cache tokens"),
    ("stop_sequences", "Stop sequences"),
    ("usage", "Usage"),
    ("error_mapping", "Error mapping"),
    ("stream_errors", "In-band stream errors"),
    ("embeddings", "Embeddings"),
]

KINDS = ["openai", "azure", "anthropic", "gemini", "bedrock", "ollama", "cohere"]

APIS = [("chat", "OpenAI API (chat completions, embeddings)"), ("messages", "Anthropic Messages API")]

LEVELS = ["native", "translated", "lossy", "rejected"]

# Cells whose request the client API cannot express: the Messages API has no `json_object`
# mode (its structured output is `output_config.format`) and no embeddings endpoint.
NOT_APPLICABLE = {("messages", "json_object"), ("messages", "embeddings")}

# The SDK suite's model names (kinds.py routes) → provider kind.
MODEL_KIND = {
    "claude": "anthropic",
    "claude-tool": "anthropic",
    "claude-broken": "anthropic",
    "thinker": "gemini",
    "gpt": "openai",
    "groq": "openai",
    "azure": "azure",
    "azure-v1": "azure",
    "gemini": "gemini",
    "ollama": "ollama",
    "cohere": "cohere",
    "bedrock": "bedrock",
    "embed-openai": "openai",
    "embed-azure": "azure",
    "embed-gemini": "gemini",
    "embed-ollama": "ollama",
    "embed-cohere": "cohere",
    "embed-bedrock": "bedrock",
}


def default_level(kind, api):
    """`native` when the client's API is the provider's own wire format."""
    if api == "chat" and kind in ("openai", "azure"):
        return "native"
    if api == "messages" and kind == "anthropic":
        return "native"
    return "translated"
