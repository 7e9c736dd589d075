//! Tests of the virtual keys: records and their JSON, the directory, the stores (memory,
//! SQLite, Postgres) with the refresher, and the admin keys API.

mod admin_api;
mod admin_http;
mod directory;
mod record;
mod secret;
mod store;

use super::record::{KeyRecord, KeySource, from_unix_secs};
use pingora::http::RequestHeader;

/// A request carrying `headers`.
fn req(headers: &[(&str, &str)]) -> RequestHeader {
    let mut h = RequestHeader::build("POST", b"/v1/chat/completions", None).unwrap();
    for (k, v) in headers {
        h.insert_header(k.to_string(), *v).unwrap();
    }
    h
}

/// A request presenting `key` as a Bearer token.
fn bearer(key: &str) -> RequestHeader {
    req(&[("authorization", &format!("Bearer {key}"))])
}

/// An API key record with every field set (whole seconds, as the stores keep them).
fn full_record(id: &str) -> KeyRecord {
    let mut r = KeyRecord::new(
        id,
        format!("name of {id}"),
        KeySource::Api,
        from_unix_secs(1_700_000_000),
    );
    r.team = Some("research".into());
    r.org = Some("acme".into());
    r.models = vec!["gpt-4o*".into(), "claude-3-5-sonnet".into()];
    r.routes = vec!["fast".into()];
    r.limits.rpm = Some(60);
    r.limits.tpm = Some(100_000);
    r.limits.max_concurrency = Some(4);
    r.limits.budget.daily_micros = Some(1_500_000);
    r.limits.budget.monthly_micros = Some(20_000_000);
    r.limits.budget.total_micros = Some(123_456_789);
    r.expires_at = Some(from_unix_secs(4_000_000_000));
    r.tags = vec!["premium".to_string(), "beta".to_string()].into();
    r.audit = true;
    r.updated_at = from_unix_secs(1_700_000_100);
    r.hint = "sy-abcd…wxyz".into();
    r
}
