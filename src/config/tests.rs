//! Config loading and validation: every rejection names the offending field.

use super::*;

const ISSUE_EXAMPLE: &str = r#"
server: { listen: "127.0.0.1:8080", admin_listen: "127.0.0.1:9090" }
providers:
  - { name: anthropic, kind: anthropic, base_url: "https://api.anthropic.com", api_key: "${ANTHROPIC_API_KEY}" }
  - { name: openai, kind: openai, base_url: "https://api.openai.com/v1", api_key: "${OPENAI_API_KEY}" }
routes:
  - name: mid-tier
    match: { model: "gpt-4o-mini" }
    targets:
      - { provider: anthropic, model: "claude-haiku-4-5", weight: 60 }
      - { provider: openai, model: "gpt-4o-mini", weight: 40 }
    fallback: [ { provider: openai, model: "gpt-4o-mini" } ]
keys:
  - { name: team-a, key: "${TEAM_A_KEY}" }
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "ANTHROPIC_API_KEY" => Some("sk-ant-canary".into()),
        "OPENAI_API_KEY" => Some("sk-oai-canary".into()),
        "TEAM_A_KEY" => Some("sk-team-a-canary".into()),
        _ => None,
    }
}

fn load(yaml: &str) -> Result<Config, ConfigError> {
    Config::from_yaml(yaml, &env)
}

fn err(yaml: &str) -> String {
    load(yaml)
        .expect_err("config should be rejected")
        .to_string()
}

/// The example from the issue loads, with secrets substituted and routes resolved.
#[test]
fn issue_example_loads() {
    let c = load(ISSUE_EXAMPLE).unwrap();
    assert_eq!(c.providers.len(), 2);
    assert_eq!(c.providers[0].kind, ProviderKind::Anthropic);
    assert_eq!(c.providers[0].endpoint.host, "api.anthropic.com");
    assert_eq!(c.providers[0].endpoint.path_prefix, "");
    assert!(c.providers[0].endpoint.tls);
    assert_eq!(c.providers[1].endpoint.path_prefix, "/v1");
    assert_eq!(c.providers[0].api_key.expose(), "sk-ant-canary");
    assert_eq!(c.routes[0].targets[0].provider, 0);
    assert_eq!(c.routes[0].targets[1].weight, 40);
    assert_eq!(c.routes[0].fallback[0].provider, 1);
    assert_eq!(c.keys[0].name, "team-a");
    assert_eq!(c.server.max_body_bytes, 32 * 1024 * 1024);
}

/// Debug output of the loaded config never contains a secret.
#[test]
fn debug_output_has_no_secrets() {
    let c = load(ISSUE_EXAMPLE).unwrap();
    let dump = format!("{c:?}");
    assert!(!dump.contains("sk-ant-canary"), "{dump}");
}

/// Unknown fields are rejected with their path.
#[test]
fn unknown_field_is_named() {
    let e = err(&ISSUE_EXAMPLE.replace("weight: 60", "weight: 60, wieght: 3"));
    assert!(e.starts_with("routes[0].targets[0]"), "{e}");
    assert!(e.contains("wieght"), "{e}");
    let e = err("bogus: 1\nkeys: [{name: a, key: abcdefghij}]");
    assert!(e.contains("bogus"), "{e}");
}

/// A target naming a provider that does not exist is rejected.
#[test]
fn missing_provider_is_named() {
    let e = err(&ISSUE_EXAMPLE.replace(
        "{ provider: openai, model: \"gpt-4o-mini\", weight: 40 }",
        "{ provider: opnai, model: x, weight: 40 }",
    ));
    assert!(
        e.starts_with("routes[0].targets[1].provider: unknown provider \"opnai\""),
        "{e}"
    );
    let e = err(&ISSUE_EXAMPLE.replace(
        "fallback: [ { provider: openai",
        "fallback: [ { provider: nope",
    ));
    assert!(e.starts_with("routes[0].fallback[0].provider"), "{e}");
}

/// Bad URLs are rejected with the field and the reason.
#[test]
fn bad_urls_are_named() {
    for (url, why) in [
        ("ftp://x", "scheme"),
        ("api.openai.com/v1", "scheme"),
        ("https://", "cannot parse"),
        ("https://u:p@h.com", "credentials"),
        ("https://h.com/v1?x=1", "query"),
    ] {
        let e = err(&ISSUE_EXAMPLE.replace("https://api.openai.com/v1", url));
        assert!(e.starts_with("providers[1].base_url"), "{url}: {e}");
        assert!(e.contains(why), "{url}: {e}");
    }
}

/// Zero, negative or non-numeric weights are rejected.
#[test]
fn bad_weights_are_named() {
    for w in ["0", "-5", "abc", "2000000"] {
        let e = err(&ISSUE_EXAMPLE.replace("weight: 60", &format!("weight: {w}")));
        assert!(e.starts_with("routes[0].targets[0].weight"), "{w}: {e}");
    }
}

/// An unset variable without default is rejected naming field and variable.
#[test]
fn unset_env_is_named() {
    let e = Config::from_yaml(ISSUE_EXAMPLE, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("providers[0].api_key"), "{e}");
    assert!(e.contains("ANTHROPIC_API_KEY"), "{e}");
}

/// Error messages never echo a substituted secret.
#[test]
fn errors_do_not_echo_secrets() {
    let e = err(&ISSUE_EXAMPLE.replace("weight: 60", "weight: \"${OPENAI_API_KEY}\""));
    assert!(!e.contains("canary"), "{e}");
}

/// Unknown provider kinds list the valid ones.
#[test]
fn unknown_kind_lists_choices() {
    let e = err(&ISSUE_EXAMPLE.replace("kind: anthropic", "kind: anthropix"));
    assert!(e.starts_with("providers[0].kind"), "{e}");
    assert!(e.contains("openai, anthropic"), "{e}");
}

/// Duplicates, empty target lists and missing keys are rejected.
#[test]
fn structural_errors() {
    let dup = ISSUE_EXAMPLE.replace(
        "name: openai, kind: openai",
        "name: anthropic, kind: openai",
    );
    assert!(err(&dup).starts_with("providers[1].name"));
    let no_keys = ISSUE_EXAMPLE.replace("  - { name: team-a, key: \"${TEAM_A_KEY}\" }", "");
    assert!(err(&no_keys.replace("keys:\n", "keys: []\n")).starts_with("keys"));
    let e = err("server: { listen: \"localhost:80\" }\nkeys: [{name: a, key: abcdefghij}]");
    assert!(e.starts_with("server.listen"), "{e}");
    let e = err("server: { request_timeout: 0s }\nkeys: [{name: a, key: abcdefghij}]");
    assert!(e.starts_with("server.request_timeout"), "{e}");
    let e = err("server: { request_timeout: soon }\nkeys: [{name: a, key: abcdefghij}]");
    assert!(e.starts_with("server.request_timeout"), "{e}");
}

/// Durations accept humantime strings and server values become provider defaults.
#[test]
fn timeouts_cascade() {
    let c = load(
        &ISSUE_EXAMPLE
            .replace(
                "server: { listen: \"127.0.0.1:8080\", admin_listen: \"127.0.0.1:9090\" }",
                "server: { first_byte_timeout: 7s, connect_timeout: 250ms }",
            )
            .replace(
                "api_key: \"${OPENAI_API_KEY}\" }",
                "api_key: \"${OPENAI_API_KEY}\", first_byte_timeout: 2s }",
            ),
    )
    .unwrap();
    assert_eq!(c.providers[0].timeouts.first_byte, Duration::from_secs(7));
    assert_eq!(c.providers[0].timeouts.connect, Duration::from_millis(250));
    assert_eq!(c.providers[1].timeouts.first_byte, Duration::from_secs(2));
}

/// Endpoint parsing keeps non-default ports in the Host header.
#[test]
fn endpoint_authority() {
    let e = validate::endpoint("x", "http://127.0.0.1:9000/v1/").unwrap();
    assert_eq!(
        (e.tls, e.port, e.path_prefix.as_str(), e.authority.as_str()),
        (false, 9000, "/v1", "127.0.0.1:9000")
    );
    assert!(e.host_is_ip());
    let e = validate::endpoint("x", "https://api.anthropic.com").unwrap();
    assert_eq!((e.port, e.authority.as_str()), (443, "api.anthropic.com"));
    assert!(!e.host_is_ip());
}

const KEYS: &str = "keys: [{name: k, key: abcdefghijk}]\n";

/// Presets need only a kind and a key; base URLs of kinds default; Azure needs one.
#[test]
fn presets_and_default_base_urls() {
    let c = load(&format!(
        "providers:\n  - {{name: g, kind: groq, api_key: x}}\n  - {{name: l, kind: lmstudio}}\n  - {{name: a, kind: anthropic}}\n  - {{name: m, kind: gemini}}\n  - {{name: o, kind: ollama}}\n{KEYS}"
    ))
    .unwrap();
    let p = &c.providers;
    assert_eq!(
        (p[0].kind, p[0].preset),
        (ProviderKind::OpenAi, Some("groq"))
    );
    assert_eq!(p[0].endpoint.host, "api.groq.com");
    assert_eq!(p[0].endpoint.path_prefix, "/openai/v1");
    assert_eq!((p[1].endpoint.tls, p[1].endpoint.port), (false, 1234));
    assert_eq!(p[2].endpoint.host, "api.anthropic.com");
    assert_eq!(p[3].endpoint.host, "generativelanguage.googleapis.com");
    assert_eq!(p[4].endpoint.port, 11434);
    assert!(
        err(&format!("providers: [{{name: z, kind: azure}}]\n{KEYS}"))
            .starts_with("providers[0].base_url: required for kind azure")
    );
    let e = err(&format!("providers: [{{name: z, kind: grok}}]\n{KEYS}"));
    assert!(
        e.starts_with("providers[0].kind: unknown kind \"grok\"") && e.contains("groq"),
        "{e}"
    );
}

/// Bedrock: region and credentials from config or the AWS environment, never echoed.
#[test]
fn bedrock_region_and_credentials() {
    let aws = |name: &str| match name {
        "AWS_REGION" => Some("eu-west-1".to_string()),
        "AWS_ACCESS_KEY_ID" => Some("AKIAENVCANARY".to_string()),
        "AWS_SECRET_ACCESS_KEY" => Some("env-secret-canary".to_string()),
        "AWS_SESSION_TOKEN" => Some("env-token-canary".to_string()),
        _ => None,
    };
    let yaml = format!("providers: [{{name: b, kind: bedrock}}]\n{KEYS}");
    let c = Config::from_yaml(&yaml, &aws).unwrap();
    let b = &c.providers[0];
    assert_eq!(b.region, "eu-west-1");
    assert_eq!(b.endpoint.host, "bedrock-runtime.eu-west-1.amazonaws.com");
    let creds = b.aws.as_ref().unwrap();
    assert_eq!(creds.access_key_id.expose(), "AKIAENVCANARY");
    assert_eq!(
        creds.session_token.as_ref().unwrap().expose(),
        "env-token-canary"
    );
    assert!(!format!("{c:?}").contains("env-secret-canary"));
    // Config credentials win, and the environment's session token is not mixed in.
    let yaml = format!(
        "providers: [{{name: b, kind: bedrock, region: us-east-1, aws_access_key_id: AKIACONF, aws_secret_access_key: conf-secret}}]\n{KEYS}"
    );
    let c = Config::from_yaml(&yaml, &aws).unwrap();
    let creds = c.providers[0].aws.as_ref().unwrap();
    assert_eq!(creds.access_key_id.expose(), "AKIACONF");
    assert!(creds.session_token.is_none());
    assert!(
        err(&format!("providers: [{{name: b, kind: bedrock}}]\n{KEYS}"))
            .starts_with("providers[0].region: required")
    );
    assert!(
        err(&format!(
            "providers: [{{name: b, kind: bedrock, region: \"US East\"}}]\n{KEYS}"
        ))
        .starts_with("providers[0].region:")
    );
    assert!(
        err(&format!(
            "providers: [{{name: b, kind: bedrock, region: us-east-1}}]\n{KEYS}"
        ))
        .starts_with("providers[0].aws_access_key_id: required")
    );
    assert!(
        err(&format!(
            "providers: [{{name: o, kind: openai, region: us-east-1}}]\n{KEYS}"
        ))
        .starts_with(
            "providers[0].region: unknown field `region` for kind openai (it applies to kind bedrock)"
        )
    );
    assert!(
        err(&format!(
            "providers: [{{name: o, kind: openai, api_version: \"2024-10-21\"}}]\n{KEYS}"
        ))
        .starts_with(
            "providers[0].api_version: unknown field `api_version` for kind openai (it applies to kind azure)"
        )
    );
}

/// Parameter policies: a blanket action, per-parameter overrides, unknown names rejected.
#[test]
fn param_policy() {
    let c = load(&format!(
        "providers: [{{name: a, kind: anthropic, unsupported_params: drop, params: {{ n: reject }}}}]\n{KEYS}"
    ))
    .unwrap();
    let p = &c.providers[0].params;
    assert_eq!(p.action("n", ParamAction::Drop), ParamAction::Reject);
    assert_eq!(p.action("logprobs", ParamAction::Reject), ParamAction::Drop);
    let e = err(&format!(
        "providers: [{{name: a, kind: anthropic, params: {{ temperature: drop }}}}]\n{KEYS}"
    ));
    assert!(
        e.starts_with("providers[0].params.temperature: unknown parameter"),
        "{e}"
    );
    let e = err(&format!(
        "providers: [{{name: a, kind: anthropic, unsupported_params: ignore}}]\n{KEYS}"
    ));
    assert!(e.starts_with("providers[0].unsupported_params:"), "{e}");
}

const ONE_PROVIDER: &str =
    "keys: [ { name: k, key: abcdefghijk } ]\nproviders:\n  - { name: p, kind: groq, api_key: x";

/// `prices:` overrides: a table in USD per million tokens, or `free`; bad values name the field.
#[test]
fn price_overrides() {
    use crate::catalog::{Price, Prices};
    let c = load(&format!(
        "{ONE_PROVIDER}, prices: {{ input: 0.5, output: 1.5, cache_read: 0.05 }} }}"
    ))
    .unwrap();
    let p = c.providers[0].prices.unwrap();
    assert_eq!((p.input, p.output), (Price(500_000), Price(1_500_000)));
    assert_eq!((p.cache_read, p.cache_write), (Some(Price(50_000)), None));
    assert_eq!(c.providers[0].catalog_name(), "groq");
    let free = load(&format!("{ONE_PROVIDER}, prices: free }}")).unwrap();
    assert_eq!(free.providers[0].prices, Some(Prices::FREE));
    let zero = load(&format!(
        "{ONE_PROVIDER}, prices: {{ input: 0, output: 0 }} }}"
    ))
    .unwrap();
    assert_eq!(zero.providers[0].prices.unwrap().output, Price(0));
    assert!(load(ISSUE_EXAMPLE).unwrap().providers[0].prices.is_none());
    for (prices, field) in [
        ("{ input: -1, output: 1 }", "providers[0].prices.input: "),
        ("{ input: 1, output: .nan }", "providers[0].prices.output: "),
        (
            "{ input: 1, output: 1, cache_write: -2 }",
            "providers[0].prices.cache_write: ",
        ),
        ("cheap", "providers[0].prices: \"cheap\" must be free"),
        ("{ input: 1 }", "providers[0].prices"),
        (
            "{ input: 1, output: 1, per_request: 2 }",
            "providers[0].prices",
        ),
    ] {
        let e = err(&format!("{ONE_PROVIDER}, prices: {prices} }}"));
        assert!(e.starts_with(field), "{prices}: {e}");
    }
}

/// The built-in catalog by default; `server.catalog` replaces it; a bad file fails the load
/// naming the field.
#[test]
fn catalog_file() {
    let c = load(ISSUE_EXAMPLE).unwrap();
    assert!(c.catalog.lookup("openai", "gpt-4o-mini").is_some());
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("models.json");
    std::fs::write(
        &good,
        r#"{"models": [{"provider": "vllm", "id": "local", "mode": "chat", "prices": {"input": 0, "output": 0}}]}"#,
    )
    .unwrap();
    let yaml = |path: &std::path::Path| {
        format!(
            "server: {{ catalog: \"{}\" }}\nkeys: [ {{ name: k, key: abcdefghijk }} ]\n",
            path.display()
        )
    };
    let c = load(&yaml(&good)).unwrap();
    assert_eq!(c.catalog.len(), 1);
    assert!(c.catalog.lookup("vllm", "local").is_some());
    assert!(c.catalog.lookup("openai", "gpt-4o-mini").is_none());
    let e = err(&yaml(&dir.path().join("missing.json")));
    assert!(e.starts_with("server.catalog: cannot read"), "{e}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"models\": [{\"provider\": \"a\"}]}").unwrap();
    let e = err(&yaml(&bad));
    assert!(
        e.starts_with("server.catalog: ") && e.contains("not a model catalog"),
        "{e}"
    );
}

const ROUTING: &str = r#"
server:
  health: { breaker: { consecutive_failures: 3, cooldown: 2s }, latency: { weight_floor: 0.1 } }
  retry: { backoff_base: 50ms, budget_ratio: 0.5 }
providers:
  - { name: a, kind: openai, base_url: "http://127.0.0.1:1/v1", api_key: x }
routes:
  - name: first
    match: { model: ["gpt-*", exact], tools: true }
    strategy: scored
    score_weights: { latency: 1, cost: 1 }
    targets: [ { provider: a, model: m, cost: 2.5, score: 0.7, max_latency_ms: 300, context_window: 8000 } ]
    fallback: [ { provider: a, model: f, max_latency_ms: 900 } ]
  - name: second
    match: { model: exact }
    targets: [ { provider: a, model: m } ]
keys: [ { name: k, key: abcdefghijk, team: research, tags: [premium, beta] } ]
"#;

/// Routing settings: rules (the same model in two routes is fine: file order decides),
/// strategies, target fields, keys' team and tags, health and retry settings.
#[test]
fn routing_settings_load() {
    use crate::routing::strategy::{ScoreWeights, Strategy};
    let c = load(ROUTING).unwrap();
    let r = &c.routes[0];
    assert_eq!(r.models, ["exact"], "globs are not listed");
    assert_eq!(
        r.strategy,
        Strategy::Scored(ScoreWeights {
            latency: 1.0,
            cost: 1.0,
            success: 0.0,
            custom: 0.0
        })
    );
    let t = &r.targets[0];
    assert_eq!(
        (t.cost, t.score, t.max_latency, t.context_window),
        (
            Some(2.5),
            Some(0.7),
            Some(Duration::from_millis(300)),
            Some(8000)
        )
    );
    assert_eq!(r.fallback[0].max_latency, Some(Duration::from_millis(900)));
    assert_eq!(c.routes[1].strategy, Strategy::Weighted);
    assert_eq!(c.keys[0].team.as_deref(), Some("research"));
    assert_eq!(c.keys[0].tags, ["premium", "beta"]);
    let h = c.server.health;
    assert_eq!(h.breaker.consecutive_failures, 3);
    assert_eq!(h.breaker.cooldown, Duration::from_secs(2));
    assert_eq!(h.breaker.error_ratio, 0.5, "default kept");
    assert_eq!(h.latency.weight_floor, 0.1);
    assert_eq!(c.server.retry.backoff.base, Duration::from_millis(50));
    assert_eq!(c.server.retry.budget.ratio, 0.5);
    assert_eq!(c.server.retry.budget.min_per_sec, 3.0, "default kept");
}

/// Invalid routing settings name their field.
#[test]
fn routing_errors_are_named() {
    for (from, to, path) in [
        (
            "strategy: scored",
            "strategy: fastest",
            "routes[0].strategy",
        ),
        (
            "match: { model: exact }",
            "match: { model: exact, last_user_message: '(' }",
            "routes[1].match.last_user_message",
        ),
        (
            "match: { model: exact }",
            "match: { model: exact, prompt_tokens: { above: 5, below: 6 } }",
            "routes[1].match.prompt_tokens",
        ),
        ("cost: 2.5", "cost: -1", "routes[0].targets[0].cost"),
        ("score: 0.7", "score: 2", "routes[0].targets[0].score"),
        (
            "max_latency_ms: 300",
            "max_latency_ms: 0",
            "routes[0].targets[0].max_latency_ms",
        ),
        (
            "score_weights: { latency: 1, cost: 1 }",
            "score_weights: { latency: 0 }",
            "routes[0].score_weights",
        ),
        (
            "consecutive_failures: 3",
            "consecutive_failures: 0",
            "server.health.breaker.consecutive_failures",
        ),
        (
            "budget_ratio: 0.5",
            "budget_ratio: -1",
            "server.retry.budget_ratio",
        ),
        ("tags: [premium, beta]", "tags: [\"\"]", "keys[0].tags[0]"),
    ] {
        assert!(ROUTING.contains(from), "{from}");
        let e = err(&ROUTING.replace(from, to));
        assert!(e.starts_with(path), "{to}: {e}");
    }
    let e = err(&ROUTING.replace("    strategy: scored\n", ""));
    assert!(e.starts_with("routes[0].score_weights"), "{e}");
}

/// `server.upgrade_sock` defaults to a fixed path, takes any socket-sized path and names itself
/// when it cannot be a Unix socket address.
#[test]
fn upgrade_sock() {
    let keys = "keys: [{name: a, key: abcdefghij}]";
    let c = load(keys).unwrap();
    assert_eq!(c.server.upgrade_sock, "/tmp/switchyard-upgrade.sock");
    let c = load(&format!(
        "server: {{ upgrade_sock: /run/sy/up.sock }}\n{keys}"
    ))
    .unwrap();
    assert_eq!(c.server.upgrade_sock, "/run/sy/up.sock");
    let long = format!("/{}", "a".repeat(107));
    for bad in ["\"\"", "/run/sy/", &long] {
        let e = err(&format!("server: {{ upgrade_sock: {bad} }}\n{keys}"));
        assert!(e.starts_with("server.upgrade_sock"), "{bad}: {e}");
    }
}
