"""One entry per provider kind the shared SDK suites run against.

Each entry: the model name clients send (also the route name), the provider's config entry
(YAML flow mapping; `{emu}` is the emulator's port) and the upstream model it routes to.
Every kind points at the one emulator, which speaks each wire format on its own paths.
"""

COMMON = 'api_key: "sk-upstream", first_byte_timeout: 5s, stream_idle_timeout: 5s'

KINDS = [
    ("claude", 'name: emu-anthropic, kind: anthropic, base_url: "http://127.0.0.1:{emu}"', "claude-haiku-4-5"),
    ("gpt", 'name: emu-openai, kind: openai, base_url: "http://127.0.0.1:{emu}/v1"', "gpt-4o-mini"),
    ("azure", 'name: emu-azure, kind: azure, base_url: "http://127.0.0.1:{emu}"', "gpt-4o-mini"),
    ("azure-v1", 'name: emu-azure-v1, kind: azure, base_url: "http://127.0.0.1:{emu}/openai/v1"', "gpt-4o-mini"),
    ("groq", 'name: emu-groq, kind: groq, base_url: "http://127.0.0.1:{emu}/openai/v1"', "llama-3.3-70b-versatile"),
    ("gemini", 'name: emu-gemini, kind: gemini, base_url: "http://127.0.0.1:{emu}"', "gemini-2.5-flash"),
    ("ollama", 'name: emu-ollama, kind: ollama, base_url: "http://127.0.0.1:{emu}"', "llama3.2"),
    ("cohere", 'name: emu-cohere, kind: cohere, base_url: "http://127.0.0.1:{emu}"', "command-a-03-2025"),
    ("bedrock", 'name: emu-bedrock, kind: bedrock, base_url: "http://127.0.0.1:{emu}", region: us-east-1, aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"', "anthropic.claude-3-haiku-20240307-v1:0"),
]

# Embeddings: (model name clients send, provider name from KINDS, upstream embedding model).
EMBEDDINGS = [
    ("embed-openai", "emu-openai", "text-embedding-3-small"),
    ("embed-azure", "emu-azure", "text-embedding-3-small"),
    ("embed-gemini", "emu-gemini", "gemini-embedding-001"),
    ("embed-ollama", "emu-ollama", "nomic-embed-text"),
    ("embed-cohere", "emu-cohere", "embed-v4.0"),
    ("embed-bedrock", "emu-bedrock", "cohere.embed-english-v3"),
]

MODELS = [k[0] for k in KINDS]


# Behaviour variants of every kind: route `<model>-<variant>` goes to a copy of the kind's
# provider whose requests carry the emulator directive (an `x-emulator` header, which also
# works for Gemini, whose model sits in the URL path).
VARIANTS = {
    "par": "tool=parallel",
    "e400": "status=400",
    "cut": "drop_after=6",
    "cache": "cache_read=5;cache_write=6",
}


def _name(prov):
    return prov.split(",")[0].split(":")[1].strip()


def providers_yaml(emu):
    out = [f"  - {{ {p.format(emu=emu)}, {COMMON} }}\n" for _, p, _ in KINDS]
    for variant, directive in VARIANTS.items():
        for _, p, _ in KINDS:
            name = _name(p)
            renamed = p.replace(f"name: {name}", f"name: {name}-{variant}", 1)
            out.append(f'  - {{ {renamed.format(emu=emu)}, {COMMON}, health_check: false, '
                       f'headers: {{ x-emulator: "{directive}" }} }}\n')
    return "".join(out)


def routes_yaml():
    out = []
    for model, prov, upstream in KINDS:
        name = prov.split(",")[0].split(":")[1].strip()
        out.append(f'  - {{ name: {model}, match: {{ model: "{model}" }}, targets: [ {{ provider: {name}, model: "{upstream}" }} ] }}\n')
    for variant in VARIANTS:
        for model, prov, upstream in KINDS:
            name = f"{_name(prov)}-{variant}"
            out.append(f'  - {{ name: {model}-{variant}, match: {{ model: "{model}-{variant}" }}, '
                       f'targets: [ {{ provider: {name}, model: "{upstream}" }} ] }}\n')
    for model, name, upstream in EMBEDDINGS:
        out.append(f'  - {{ name: {model}, match: {{ model: "{model}" }}, targets: [ {{ provider: {name}, model: "{upstream}" }} ] }}\n')
    return "".join(out)


# Kinds whose API takes image bytes only (the gateway never fetches URLs): an https image URL
# is a 400 naming the part.
NO_IMAGE_URLS = {"bedrock", "ollama"}
