//! KeyRecord permissions, the spec column, USD conversion and create-request validation.

use super::full_record;
use crate::keys::api_json::{parse_create, usd_to_micros, view};
use crate::keys::record::{KeyRecord, KeySource, from_unix_secs, glob_match, hint, unix_secs};
use crate::keys::spec::KeySpec;
use std::time::{Duration, SystemTime};

#[test]
fn globs_match_with_star_only() {
    for (p, t, want) in [
        ("gpt-4o", "gpt-4o", true),
        ("gpt-4o", "gpt-4o-mini", false),
        ("gpt-4o*", "gpt-4o-mini", true),
        ("gpt-4o*", "gpt-4o", true),
        ("gpt-4o*", "gpt-4", false),
        ("*", "", true),
        ("*", "anything/at:all", true),
        ("*mini", "gpt-4o-mini", true),
        ("*mini", "gpt-4o-maxi", false),
        ("claude-*-sonnet", "claude-3-5-sonnet", true),
        ("claude-*-sonnet", "claude-3-5-haiku", false),
        ("a*b*c", "abc", true),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "acb", false),
        ("a*a", "a", false),
        ("a**a", "aa", true),
        ("GPT*", "gpt-4o", false),
    ] {
        assert_eq!(glob_match(p, t), want, "{p} vs {t}");
    }
}

#[test]
fn models_routes_and_expiry() {
    let now = SystemTime::now();
    let mut r = KeyRecord::new("k", "k", KeySource::Api, now);
    assert!(
        r.allows_model("anything") && r.allows_route("any"),
        "empty allows all"
    );
    r.models = vec!["gpt-4o*".into(), "claude-3-5-sonnet".into()];
    r.routes = vec!["fast".into()];
    assert!(r.allows_model("gpt-4o-mini"));
    assert!(r.allows_model("claude-3-5-sonnet"));
    assert!(!r.allows_model("claude-3-5-sonnet-latest"));
    assert!(r.allows_route("fast") && !r.allows_route("fast2"));

    assert!(!r.expired(now), "no expiry");
    r.expires_at = Some(now + Duration::from_secs(10));
    assert!(!r.expired(now));
    assert!(
        r.expired(now + Duration::from_secs(10)),
        "expires at the instant"
    );
    assert!(r.expired(now + Duration::from_secs(11)));
}

#[test]
fn hints_show_little() {
    let key = "sy-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdwxyz";
    assert_eq!(hint(key), "sy-AbCd…wxyz");
    assert_eq!(hint("short-key-12"), "…12");
    assert_eq!(hint("tiny"), "…");
    assert_eq!(
        hint("ключ-ключ-ключ-ключ-ключ"),
        "ключ-кл…ключ",
        "by characters"
    );
}

#[test]
fn unix_seconds_round_trip() {
    for s in [0, 1_700_000_000, -5] {
        assert_eq!(unix_secs(from_unix_secs(s)), s);
    }
}

/// Every settable field survives the spec column; unknown fields are ignored and missing ones
/// default.
#[test]
fn spec_json_round_trip() {
    let r = full_record("key_1");
    let json = KeySpec::of(&r).to_json();
    assert!(json.contains("\"daily_micros\":1500000"), "{json}");
    let mut back = KeyRecord::new("key_1", r.name.clone(), KeySource::Api, r.created_at);
    KeySpec::from_json(&json).unwrap().apply(&mut back);
    back.updated_at = r.updated_at;
    back.hint = r.hint.clone();
    assert_eq!(back, r);

    let old = KeySpec::from_json(r#"{"rpm":5,"future_field":[1,2]}"#).unwrap();
    assert_eq!(old.rpm, Some(5));
    assert!(old.models.is_empty() && !old.audit && old.budget.total_micros.is_none());
    assert!(KeySpec::from_json("not json").is_err());
}

#[test]
fn usd_converts_to_micros() {
    assert_eq!(usd_to_micros("b", 0.0).unwrap(), 0);
    assert_eq!(usd_to_micros("b", 0.1).unwrap(), 100_000);
    assert_eq!(
        usd_to_micros("b", 12.345_678_9).unwrap(),
        12_345_679,
        "rounds"
    );
    assert_eq!(usd_to_micros("b", 0.000_000_4).unwrap(), 0);
    assert_eq!(
        usd_to_micros("b", 1_000_000_000.0).unwrap(),
        1_000_000_000_000_000
    );
    for bad in [-0.01, f64::NAN, f64::INFINITY, 1e10] {
        let e = usd_to_micros("budget.daily", bad).unwrap_err();
        assert_eq!(
            (e.status, e.param.as_deref()),
            (400, Some("budget.daily")),
            "{bad}"
        );
    }
}

#[test]
fn create_body_fills_the_record() {
    let now = from_unix_secs(1_800_000_000);
    let body = br#"{"name":" ci ","team":"research","org":"acme","models":["gpt-4o*"],
        "routes":["fast"],"rpm":60,"tpm":1000,"max_concurrency":2,
        "budget":{"daily":1.5,"total":100},"expires_in":"30d","tags":["x"],"audit":true}"#;
    let r = parse_create(body, "key_abc", now).unwrap();
    assert_eq!(
        (&*r.id, &*r.name, r.source),
        ("key_abc", "ci", KeySource::Api)
    );
    assert_eq!(r.team.as_deref(), Some("research"));
    assert_eq!(r.org.as_deref(), Some("acme"));
    assert!(r.allows_model("gpt-4o-mini") && !r.allows_model("o1"));
    assert_eq!(
        (r.limits.rpm, r.limits.tpm, r.limits.max_concurrency),
        (Some(60), Some(1000), Some(2))
    );
    assert_eq!(r.limits.budget.daily_micros, Some(1_500_000));
    assert_eq!(r.limits.budget.monthly_micros, None);
    assert_eq!(r.limits.budget.total_micros, Some(100_000_000));
    assert_eq!(r.expires_at, Some(now + Duration::from_secs(30 * 86_400)));
    assert!(r.audit && r.tags.len() == 1);

    let at = parse_create(
        br#"{"name":"a","expires_at":"2030-01-01T00:00:00Z"}"#,
        "k",
        now,
    )
    .unwrap();
    assert_eq!(at.expires_at.map(unix_secs), Some(1_893_456_000));
    let minimal = parse_create(br#"{"name":"a"}"#, "k", now).unwrap();
    assert!(minimal.limits.is_unlimited() && minimal.expires_at.is_none() && !minimal.audit);
}

/// Each bad field is a 400 that names it.
#[test]
fn create_body_errors_name_the_field() {
    let now = from_unix_secs(1_800_000_000);
    for (body, param, needle) in [
        (r#"{"team":"x"}"#, None, "name"),
        (r#"{"name":""}"#, Some("name"), "name"),
        (r#"{"name":"a","rpm":-1}"#, Some("rpm"), "rpm"),
        (r#"{"name":"a","rpm":"many"}"#, Some("rpm"), "rpm"),
        (
            r#"{"name":"a","budget":{"daily":-1}}"#,
            Some("budget.daily"),
            "budget.daily",
        ),
        (
            r#"{"name":"a","budget":{"weekly":1}}"#,
            Some("budget.weekly"),
            "weekly",
        ),
        (
            r#"{"name":"a","colour":"red"}"#,
            Some("colour"),
            "unknown field `colour`",
        ),
        (
            r#"{"name":"a","models":["ok",""]}"#,
            Some("models"),
            "models",
        ),
        (
            r#"{"name":"a","expires_at":"tomorrow"}"#,
            Some("expires_at"),
            "expires_at",
        ),
        (
            r#"{"name":"a","expires_at":"2020-01-01T00:00:00Z"}"#,
            Some("expires_at"),
            "future",
        ),
        (
            r#"{"name":"a","expires_in":"soon"}"#,
            Some("expires_in"),
            "expires_in",
        ),
        (
            r#"{"name":"a","expires_in":"1d","expires_at":"2099-01-01T00:00:00Z"}"#,
            Some("expires_in"),
            "not both",
        ),
        ("", None, "invalid request body"),
        ("[]", None, "invalid request body"),
    ] {
        let e = parse_create(body.as_bytes(), "k", now).unwrap_err();
        assert_eq!(e.status, 400, "{body}");
        assert_eq!(e.param.as_deref(), param, "{body}: {}", e.message);
        assert!(e.message.contains(needle), "{body}: {}", e.message);
    }
}

/// The view shows budgets in USD, status and source, and no digest.
#[test]
fn view_shows_usd_and_status() {
    let mut r = full_record("key_1");
    let v = serde_json::to_value(view(&r, from_unix_secs(1_800_000_000))).unwrap();
    assert_eq!(v["budget"]["daily"], 1.5);
    assert_eq!(v["budget"]["total"], 123.456789);
    assert!(v["budget"]["monthly"].is_number());
    assert_eq!(v["source"], "api");
    assert_eq!(v["status"], "active");
    assert_eq!(v["created_at"], "2023-11-14T22:13:20Z");
    assert!(v.get("digest").is_none());
    r.revoked_at = Some(from_unix_secs(1_750_000_000));
    assert_eq!(view(&r, from_unix_secs(1_800_000_000)).status, "revoked");
    r.revoked_at = None;
    assert_eq!(view(&r, from_unix_secs(4_000_000_001)).status, "expired");
}
