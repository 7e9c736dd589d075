//! Provider entries per kind: each kind takes the common fields and its own, and a field of
//! another kind is rejected naming the field, the kind as written and the kind it belongs to.

use super::*;

const KEYS: &str = "keys: [{name: k, key: abcdefghijk}]";
const AWS: &str = "region: us-east-1, aws_access_key_id: AKIA, aws_secret_access_key: s";

fn err(providers: &str) -> String {
    Config::from_yaml(&format!("providers:\n{providers}\n{KEYS}"), &|_| None)
        .expect_err("config should be rejected")
        .to_string()
}

/// Every kind and a preset load, each with its own fields, and those fields reach the runtime
/// settings; kinds without them keep the defaults.
#[test]
fn every_kind_and_a_preset_load() {
    let yaml = format!(
        "providers:
  - {{name: o, kind: openai, api_key: x, default_max_tokens: 7}}
  - {{name: a, kind: anthropic, anthropic_version: \"2099-01-01\"}}
  - {{name: g, kind: gemini, health_check: false}}
  - {{name: b, kind: bedrock, {AWS}, aws_session_token: t}}
  - {{name: z, kind: azure, base_url: \"https://r.openai.azure.com\", api_version: 2025-01-01-preview}}
  - {{name: l, kind: ollama, headers: {{x-a: b}}}}
  - {{name: c, kind: cohere, connect_timeout: 2s}}
  - {{name: m, kind: mistral, prices: free}}
{KEYS}"
    );
    let c = Config::from_yaml(&yaml, &|_| None).unwrap();
    let kinds: Vec<_> = c.providers.iter().map(|p| (p.kind, p.preset)).collect();
    assert_eq!(
        kinds,
        [
            (ProviderKind::OpenAi, None),
            (ProviderKind::Anthropic, None),
            (ProviderKind::Gemini, None),
            (ProviderKind::Bedrock, None),
            (ProviderKind::Azure, None),
            (ProviderKind::Ollama, None),
            (ProviderKind::Cohere, None),
            (ProviderKind::OpenAi, Some("mistral")),
        ]
    );
    let p = &c.providers;
    assert_eq!(p[0].default_max_tokens, 7);
    assert_eq!(p[0].anthropic_version, "2023-06-01");
    assert_eq!(p[1].anthropic_version, "2099-01-01");
    assert!(!p[2].health_check);
    assert_eq!(p[3].region, "us-east-1");
    let aws = p[3].aws.as_ref().unwrap();
    assert_eq!(aws.access_key_id.expose(), "AKIA");
    assert_eq!(aws.session_token.as_ref().unwrap().expose(), "t");
    assert_eq!(p[4].api_version, "2025-01-01-preview");
    assert_eq!(p[0].api_version, "2024-10-21");
    assert!(p[0].aws.is_none() && p[0].region.is_empty());
    assert_eq!(p[5].headers.len(), 1);
    assert_eq!(p[6].timeouts.connect, Duration::from_secs(2));
    assert_eq!(p[7].endpoint.host, "api.mistral.ai");
}

/// A Bedrock field on an OpenAI provider (or on any other kind) names the kind it belongs to.
#[test]
fn bedrock_field_on_another_kind() {
    for field in [
        "region: us-east-1",
        "aws_access_key_id: AKIA",
        "aws_secret_access_key: s",
        "aws_session_token: t",
    ] {
        let name = field.split(':').next().unwrap();
        for kind in ["openai", "anthropic", "azure", "cohere"] {
            let e = err(&format!(
                "  - {{name: o, kind: openai}}\n  - {{name: p, kind: {kind}, base_url: \"http://h\", {field}}}"
            ));
            assert_eq!(
                e,
                format!(
                    "providers[1].{name}: unknown field `{name}` for kind {kind} (it applies to kind bedrock)"
                )
            );
        }
    }
}

/// An Azure field on a preset names the preset as written and the kind the field belongs to;
/// so does the Anthropic field elsewhere.
#[test]
fn foreign_field_on_a_preset() {
    assert_eq!(
        err("  - {name: g, kind: groq, api_version: \"2024-10-21\"}"),
        "providers[0].api_version: unknown field `api_version` for kind groq (it applies to kind azure)"
    );
    assert_eq!(
        err("  - {name: b, kind: bedrock, region: us-east-1, anthropic_version: \"2023-06-01\"}"),
        "providers[0].anthropic_version: unknown field `anthropic_version` for kind bedrock (it applies to kind anthropic)"
    );
}

/// A field no kind takes is rejected on every kind, listing the fields that kind does take.
#[test]
fn unknown_field_on_every_kind() {
    for (kind, own) in [
        ("openai", None),
        ("anthropic", Some("anthropic_version")),
        ("gemini", None),
        ("bedrock", Some("aws_session_token")),
        ("azure", Some("api_version")),
        ("ollama", None),
        ("cohere", None),
        ("groq", None),
    ] {
        let e = err(&format!(
            "  - {{name: a, kind: {kind}, base_url: \"http://h\", colour: blue}}"
        ));
        assert!(
            e.starts_with("providers[0].colour: unknown field `colour`, expected one of `name`, `kind`, `base_url`"),
            "{kind}: {e}"
        );
        for other in ["anthropic_version", "aws_session_token", "api_version"] {
            assert_eq!(
                e.contains(&format!("`{other}`")),
                own == Some(other),
                "{kind}: {e}"
            );
        }
    }
}

/// Errors inside a kind's entry keep their full path (own fields and common ones).
#[test]
fn errors_inside_an_entry_keep_their_path() {
    let e = err("  - {name: b, kind: bedrock, region: [us-east-1]}");
    assert!(
        e.starts_with("providers[0].region: invalid type: sequence"),
        "{e}"
    );
    let e = err("  - {name: z, kind: azure, base_url: \"http://h\", connect_timeout: soon}");
    assert!(e.starts_with("providers[0].connect_timeout: "), "{e}");
    let e = err("  - {name: z, kind: azure, base_url: \"http://h\", api_version: \"a b\"}");
    assert!(
        e.starts_with("providers[0].api_version: must be an api-version"),
        "{e}"
    );
    let e = err("  - {name: a, kind: anthropic, prices: {input: 1, output: -1}}");
    assert!(e.starts_with("providers[0].prices.output: "), "{e}");
    let e = err("  - {kind: gemini}");
    assert_eq!(e, "providers[0]: missing field `name`");
}

/// An unknown, missing or malformed kind is named, an unknown one listing kinds and presets.
#[test]
fn unknown_or_missing_kind() {
    assert_eq!(
        err("  - {name: o, kind: openai}\n  - {name: x, kind: x, region: us-east-1}"),
        "providers[1].kind: unknown kind \"x\" (expected one of: openai, anthropic, gemini, \
         bedrock, azure, ollama, cohere; or an OpenAI-compatible preset: mistral, groq, \
         deepseek, xai, together, fireworks, openrouter, perplexity, cerebras, vllm, lmstudio)"
    );
    assert_eq!(
        err("  - {name: o, base_url: \"http://h\"}"),
        "providers[0]: missing field `kind`"
    );
    let e = err("  - {name: o, kind: [openai]}");
    assert!(
        e.starts_with("providers[0].kind: invalid type: sequence"),
        "{e}"
    );
    let e = err("  - openai");
    assert!(
        e.starts_with("providers[0]: invalid type: string \"openai\""),
        "{e}"
    );
}

/// `prompt_cache` is `auto` or `off` on Anthropic and Bedrock, and foreign to other kinds.
#[test]
fn prompt_cache_setting() {
    let ok = |yaml: &str| {
        Config::from_yaml(&format!("providers:\n{yaml}\n{KEYS}"), &|_| None)
            .unwrap()
            .providers[0]
            .prompt_cache_auto
    };
    assert!(ok("  - {name: a, kind: anthropic, prompt_cache: auto}"));
    assert!(!ok("  - {name: a, kind: anthropic, prompt_cache: \"off\"}"));
    assert!(!ok("  - {name: a, kind: anthropic}"));
    assert!(ok(
        "  - {name: b, kind: bedrock, region: us-east-1, aws_access_key_id: AKID, aws_secret_access_key: s, prompt_cache: auto}"
    ));
    assert_eq!(
        err("  - {name: a, kind: anthropic, prompt_cache: always}"),
        "providers[0].prompt_cache: \"always\" must be auto or off"
    );
    assert!(
        err("  - {name: o, kind: openai, prompt_cache: auto}")
            .starts_with("providers[0].prompt_cache: unknown field `prompt_cache` for kind openai")
    );
}
