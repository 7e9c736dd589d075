use super::*;
use http::HeaderValue;
use serde_json::json;

/// The YAML example of the `raw` module docs, verbatim in shape.
const EXAMPLE: &str = r#"
- model: ["gpt-4*", "*-mini"]
  prompt_tokens: { above: 32000 }
- model: "gpt-4*"
  tools: true
  last_user_message: '(?i)\b(rust|python|stack trace|compile)\b'
- model: "*"
  team: [research, platform]
  tags: premium
  prompt_tokens: { below: 8000 }
  headers:
    x-tier: premium
    x-trace-id: { present: true }
  metadata: { task: summarize }
- {}
"#;

fn matcher() -> RouteMatcher {
    let raw: Vec<RawRule> = serde_yaml::from_str(EXAMPLE).unwrap();
    RouteMatcher::compile(&raw).unwrap()
}

/// The documented example parses into the expected raw values.
#[test]
fn raw_shape_parses() {
    let raw: Vec<RawRule> = serde_yaml::from_str(EXAMPLE).unwrap();
    assert_eq!(raw.len(), 4);
    assert_eq!(raw[0].model.items(), ["gpt-4*", "*-mini"]);
    assert_eq!(raw[0].prompt_tokens.unwrap().above, Some(32000));
    assert_eq!(raw[2].tags.items(), ["premium"]);
    assert_eq!(
        raw[2].headers["x-trace-id"],
        RawHeader::Present { present: true }
    );
    assert_eq!(raw[3], RawRule::default());
    // Today's shape stays valid.
    let today: RawRule = serde_yaml::from_str("{ model: gpt-4o-mini }").unwrap();
    assert_eq!(today.model.items(), ["gpt-4o-mini"]);
    // Unknown conditions are errors.
    assert!(serde_yaml::from_str::<RawRule>("{ modle: x }").is_err());
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_static(v));
    }
    h
}

/// First match wins, in config order; the catch-all takes what nothing else did.
#[test]
fn first_match_in_order() {
    let m = matcher();
    let long = RequestFacts {
        model: "gpt-4o",
        prompt_tokens: 50_000,
        has_tools: true,
        last_user_message: Some("fix this Rust code"),
        ..RequestFacts::default()
    };
    assert_eq!(m.first_match(&long), Some(0), "rule 0 listed first");
    let code = RequestFacts {
        prompt_tokens: 500,
        ..long
    };
    assert_eq!(m.first_match(&code), Some(1));
    let chat = RequestFacts {
        last_user_message: Some("write a poem"),
        ..code
    };
    assert_eq!(m.first_match(&chat), Some(3));
    let mini_long = RequestFacts {
        model: "o4-mini",
        prompt_tokens: 40_000,
        ..RequestFacts::default()
    };
    assert_eq!(m.first_match(&mini_long), Some(0));
    assert_eq!(RouteMatcher::default().first_match(&chat), None);
}

/// Every condition of the premium rule is needed.
#[test]
fn all_conditions_must_hold() {
    let m = matcher();
    let tags = vec!["beta".to_string(), "premium".to_string()];
    let h = headers(&[
        ("x-tier", "free"),
        ("x-tier", "premium"),
        ("x-trace-id", "1"),
    ]);
    let meta = json!({"task": "summarize", "n": 3});
    let ok = RequestFacts {
        model: "claude-3-haiku",
        team: Some("research"),
        tags: &tags,
        prompt_tokens: 100,
        headers: Some(&h),
        metadata: meta.as_object(),
        ..RequestFacts::default()
    };
    assert_eq!(m.first_match(&ok), Some(2));

    let no_tags: Vec<String> = vec!["beta".into()];
    let h_free = headers(&[("x-tier", "free"), ("x-trace-id", "1")]);
    let h_no_trace = headers(&[("x-tier", "premium")]);
    let other_meta = json!({"task": "code"});
    let variants: Vec<(&str, RequestFacts<'_>)> = vec![
        (
            "other team",
            RequestFacts {
                team: Some("sales"),
                ..ok
            },
        ),
        ("no team", RequestFacts { team: None, ..ok }),
        (
            "no premium tag",
            RequestFacts {
                tags: &no_tags,
                ..ok
            },
        ),
        (
            "too many tokens",
            RequestFacts {
                prompt_tokens: 8000,
                ..ok
            },
        ),
        (
            "header differs",
            RequestFacts {
                headers: Some(&h_free),
                ..ok
            },
        ),
        (
            "header absent",
            RequestFacts {
                headers: Some(&h_no_trace),
                ..ok
            },
        ),
        (
            "no headers",
            RequestFacts {
                headers: None,
                ..ok
            },
        ),
        (
            "metadata differs",
            RequestFacts {
                metadata: other_meta.as_object(),
                ..ok
            },
        ),
        (
            "no metadata",
            RequestFacts {
                metadata: None,
                ..ok
            },
        ),
    ];
    for (why, f) in variants {
        assert_eq!(m.first_match(&f), Some(3), "{why}");
    }
}

fn one(yaml: &str) -> Rule {
    Rule::compile(0, &serde_yaml::from_str(yaml).unwrap()).unwrap()
}

/// Tools false, header absent, metadata numbers and the strict token bounds.
#[test]
fn single_conditions() {
    let f = RequestFacts::default();
    assert!(one("{ tools: false }").matches(&f));
    assert!(!one("{ tools: true }").matches(&f));
    assert!(one("{ headers: { X-Debug: { present: false } } }").matches(&f));
    let h = headers(&[("x-debug", "1")]);
    let with_h = RequestFacts {
        headers: Some(&h),
        ..f
    };
    assert!(!one("{ headers: { X-Debug: { present: false } } }").matches(&with_h));
    assert!(one("{ headers: { X-Debug: '1' } }").matches(&with_h));
    let meta = json!({"n": 3, "flag": true, "obj": {"a": 1}});
    let with_m = RequestFacts {
        metadata: meta.as_object(),
        ..f
    };
    assert!(one("{ metadata: { n: '3', flag: 'true' } }").matches(&with_m));
    assert!(!one("{ metadata: { obj: '{\"a\":1}' } }").matches(&with_m));
    let range = one("{ prompt_tokens: { above: 100, below: 200 } }");
    let at = |n| RequestFacts {
        prompt_tokens: n,
        ..f
    };
    assert!(!range.matches(&at(100)));
    assert!(range.matches(&at(101)));
    assert!(range.matches(&at(199)));
    assert!(!range.matches(&at(200)));
    let re = one("{ last_user_message: '^translate' }");
    assert!(!re.matches(&f), "no user message, no regex match");
    assert!(re.matches(&RequestFacts {
        last_user_message: Some("translate this"),
        ..f
    }));
    assert!(one("{}").matches(&f));
}

/// Compile errors name the rule and the field.
#[test]
fn compile_errors() {
    let err = |yaml: &str| {
        let raw: Vec<RawRule> = serde_yaml::from_str(yaml).unwrap();
        RouteMatcher::compile(&raw).unwrap_err()
    };
    let e = err("[{}, { last_user_message: '(unclosed' }]");
    assert_eq!((e.rule, e.field.as_str()), (1, "last_user_message"));
    assert!(
        e.to_string()
            .starts_with("routes[1].match.last_user_message: "),
        "{e}"
    );
    let long = format!("[{{ last_user_message: '{}' }}]", "a".repeat(1001));
    assert!(err(&long).message.contains("longer than 1000"));
    let huge = err(r"[{ last_user_message: '\w{1000}\w{1000}' }]");
    assert_eq!(huge.field, "last_user_message", "size limit: {huge}");
    assert_eq!(
        err("[{ headers: { 'bad header': x } }]").field,
        "headers.bad header"
    );
    assert_eq!(
        err("[{ prompt_tokens: { above: 10, below: 11 } }]").field,
        "prompt_tokens"
    );
    assert_eq!(err("[{ model: [''] }]").field, "model");
}
