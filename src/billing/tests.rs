//! Parameter parsing, JSON and CSV rendering, and `/v1/key/info`.

use super::*;
use crate::ledger::query::{GroupRow, Spend, UsageRow};
use crate::quota::{BudgetSpec, LimitSpec};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today_() -> NaiveDate {
    d("2026-11-26")
}

fn parse(q: &str) -> Result<UsageQuery, GatewayError> {
    UsageQuery::parse(Some(q), today_())
}

fn param_of(q: &str) -> String {
    let e = parse(q).unwrap_err();
    assert_eq!((e.status, e.kind), (400, ErrorKind::InvalidRequest), "{q}");
    let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    e.param.unwrap().into_owned()
}

#[test]
fn defaults_are_the_last_30_days_as_json_by_key() {
    let q = UsageQuery::parse(None, today_()).unwrap();
    assert_eq!((q.from, q.to), (d("2026-10-28"), d("2026-11-26")));
    assert_eq!(
        (q.format, q.group_by, &q.filter),
        (Format::Json, GroupBy::Key, &None)
    );
    let (from, to) = q.range();
    assert_eq!(
        from,
        humantime::parse_rfc3339("2026-10-28T00:00:00Z").unwrap()
    );
    assert_eq!(
        to,
        humantime::parse_rfc3339("2026-11-27T00:00:00Z").unwrap(),
        "to is inclusive"
    );
    assert_eq!(parse("").unwrap(), q);
    assert_eq!(
        parse("unknown=1&x").unwrap(),
        q,
        "unknown parameters are ignored"
    );
}

#[test]
fn explicit_parameters() {
    let q = parse("from=2026-11-01&to=2026-11-15&format=csv&group_by=team&model=gpt%2D4o+mini")
        .unwrap();
    assert_eq!((q.from, q.to), (d("2026-11-01"), d("2026-11-15")));
    assert_eq!((q.format, q.group_by), (Format::Csv, GroupBy::Team));
    assert_eq!(q.filter, Some((GroupBy::Model, "gpt-4o mini".to_string())));
    let only_from = parse("from=2026-11-20").unwrap();
    assert_eq!((only_from.from, only_from.to), (d("2026-11-20"), today_()));
    let only_to = parse("to=2026-02-10").unwrap();
    assert_eq!(
        (only_to.from, only_to.to),
        (d("2026-01-12"), d("2026-02-10"))
    );
    let one_day = parse("from=2026-11-26&to=2026-11-26").unwrap();
    assert_eq!(
        one_day.range().1,
        humantime::parse_rfc3339("2026-11-27T00:00:00Z").unwrap()
    );
}

#[test]
fn errors_name_the_parameter() {
    assert_eq!(param_of("from=2026-13-01"), "from");
    assert_eq!(param_of("from=26-11-01"), "from");
    assert_eq!(param_of("to=2026-11-1"), "to");
    assert_eq!(param_of("to=yesterday"), "to");
    assert_eq!(param_of("format=xml"), "format");
    assert_eq!(param_of("group_by=org"), "group_by");
    assert_eq!(param_of("from=2026-11-10&to=2026-11-01"), "from");
    assert_eq!(param_of("from=2024-01-01&to=2026-01-01"), "to");
    assert_eq!(param_of("format=json&format=csv"), "format");
    assert_eq!(param_of("team=a&key=b"), "key");
    assert_eq!(param_of("team="), "team");
    assert_eq!(param_of("model=%FF"), "model");
    let e = parse("from=nope").unwrap_err();
    assert!(e.message.contains("YYYY-MM-DD"), "{}", e.message);
}

#[test]
fn money_has_six_decimals() {
    assert_eq!(usd(0), "0.000000");
    assert_eq!(usd(1), "0.000001");
    assert_eq!(usd(1_234_567), "1.234567");
    assert_eq!(usd(u64::MAX), "18446744073709.551615");
}

#[test]
fn query_errors() {
    let off = query_error(&QueryError::Off);
    assert_eq!((off.status, off.code.as_deref()), (404, Some("ledger_off")));
    let store = query_error(&QueryError::Store("password=hunter2 refused".into()));
    assert_eq!(store.status, 500);
    assert!(
        !store.message.contains("hunter2"),
        "store details stay in the log"
    );
}

fn usage_rows() -> Vec<UsageRow> {
    let r = |day: &str, model: &str, cost| UsageRow {
        day: day.into(),
        model: model.into(),
        requests: 2,
        prompt_tokens: 100,
        completion_tokens: 20,
        cached_tokens: 5,
        reasoning_tokens: 3,
        cost_micros: cost,
    };
    vec![
        r("2026-11-25", "gpt-4o", 1_500_000),
        r("2026-11-26", "claude, \"big\"", 7),
        r("2026-11-26", "=HYPERLINK(\"x\")", 0),
    ]
}

#[test]
fn key_usage_json() {
    let q = parse("from=2026-11-25&to=2026-11-26").unwrap();
    let out = usage::key_usage("key_abc", &q, &usage_rows()).unwrap();
    assert_eq!(out.content_type, "application/json");
    let text = std::str::from_utf8(&out.body).unwrap();
    assert!(text.contains(r#""cost_usd":1.500000"#), "{text}");
    assert!(text.contains(r#""total_cost_usd":1.500007"#), "{text}");
    let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["key"], "key_abc");
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-11-25"), Some("2026-11-26"))
    );
    let first = &v["data"][0];
    assert_eq!(first["day"], "2026-11-25");
    assert_eq!(first["model"], "gpt-4o");
    for (field, n) in [
        ("requests", 2),
        ("prompt_tokens", 100),
        ("completion_tokens", 20),
        ("cached_tokens", 5),
        ("reasoning_tokens", 3),
    ] {
        assert_eq!(first[field], n, "{field}");
    }
    assert_eq!(
        v["data"][1]["model"], "claude, \"big\"",
        "JSON keeps the name as is"
    );
    assert_eq!(v["data"].as_array().unwrap().len(), 3);
}

#[test]
fn key_usage_csv_quotes_and_defuses() {
    let q = parse("format=csv").unwrap();
    let out = usage::key_usage("k", &q, &usage_rows()).unwrap();
    assert_eq!(out.content_type, "text/csv; charset=utf-8");
    let text = std::str::from_utf8(&out.body).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines,
        vec![
            "day,model,requests,prompt_tokens,completion_tokens,cached_tokens,reasoning_tokens,cost_usd",
            "2026-11-25,gpt-4o,2,100,20,5,3,1.500000",
            r#"2026-11-26,"claude, ""big""",2,100,20,5,3,0.000007"#,
            r#"2026-11-26,"'=HYPERLINK(""x"")",2,100,20,5,3,0.000000"#,
            "",
        ]
    );
}

fn group_rows() -> Vec<GroupRow> {
    vec![
        GroupRow {
            group: Some("search".into()),
            requests: 10,
            errors: 2,
            prompt_tokens: 1000,
            completion_tokens: 200,
            cost_micros: 42_000,
        },
        GroupRow {
            group: None,
            requests: 1,
            errors: 1,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_micros: 0,
        },
    ]
}

#[test]
fn grouped_usage_json_and_csv() {
    let q = parse("group_by=team&key=k1&from=2026-11-01&to=2026-11-02").unwrap();
    let out = usage::grouped_usage(&q, &group_rows()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(v["group_by"], "team");
    assert_eq!(
        v["filter"],
        serde_json::json!({"field": "key", "value": "k1"})
    );
    assert_eq!(v["data"][0]["group"], "search");
    assert_eq!(
        (
            v["data"][0]["requests"].as_u64(),
            v["data"][0]["errors"].as_u64()
        ),
        (Some(10), Some(2))
    );
    assert!(v["data"][1]["group"].is_null());
    assert_eq!(v["total_cost_usd"].as_f64(), Some(0.042));
    assert!(
        std::str::from_utf8(&out.body)
            .unwrap()
            .contains(r#""total_cost_usd":0.042000"#)
    );

    let q = parse("group_by=model&format=csv").unwrap();
    assert!(parse("group_by=model").unwrap().filter.is_none());
    let out = usage::grouped_usage(&q, &group_rows()).unwrap();
    assert_eq!(
        std::str::from_utf8(&out.body).unwrap(),
        "model,requests,errors,prompt_tokens,completion_tokens,cost_usd\r\n\
         search,10,2,1000,200,0.042000\r\n\
         ,1,1,0,0,0.000000\r\n"
    );
}

#[test]
fn key_info_shows_limits_remaining_and_resets() {
    let limits = LimitSpec {
        rpm: Some(60),
        tpm: None,
        max_concurrency: Some(4),
        budget: BudgetSpec {
            daily_micros: Some(5_000_000),
            monthly_micros: Some(100_000_000),
            total_micros: None,
        },
    };
    let now = humantime::parse_rfc3339("2026-12-31T15:30:00Z").unwrap();
    let input = KeyInfoInput {
        name: "ci",
        id: "key_01",
        team: Some("search"),
        org: None,
        limits: &limits,
        usage: KeyUsageNow {
            requests_last_minute: 75,
            tokens_last_minute: 1234,
            in_flight: 2,
            spent: Spend {
                daily_micros: 1_250_000,
                monthly_micros: 30_000_001,
                total_micros: 90_000_000,
            },
        },
        expires_at: Some(humantime::parse_rfc3339("2027-01-01T00:00:00Z").unwrap()),
        now,
    };
    let out = key_info::render(&input).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(v["key"]["name"], "ci");
    assert_eq!(v["key"]["id"], "key_01");
    assert_eq!(v["key"]["team"], "search");
    assert!(v["key"]["org"].is_null());
    assert_eq!(v["key"]["expires_at"], "2027-01-01T00:00:00Z");
    assert_eq!(v["limits"]["rpm"], 60);
    assert!(v["limits"]["tpm"].is_null());
    assert_eq!(v["limits"]["max_concurrency"], 4);
    assert_eq!(v["limits"]["budget"]["daily"].as_f64(), Some(5.0));
    assert!(v["limits"]["budget"]["total"].is_null());
    assert_eq!(
        v["remaining"]["requests_per_minute"], 0,
        "over the limit is zero, not negative"
    );
    assert!(v["remaining"]["tokens_per_minute"].is_null());
    let text = std::str::from_utf8(&out.body).unwrap();
    assert!(text.contains(r#""remaining":{"requests_per_minute":0,"tokens_per_minute":null,"budget":{"daily":3.750000,"monthly":69.999999,"total":null}}"#), "{text}");
    assert_eq!(v["usage"]["in_flight"], 2);
    assert_eq!(v["usage"]["spent"]["total"].as_f64(), Some(90.0));
    assert_eq!(v["resets"]["daily"], "2027-01-01T00:00:00Z");
    assert_eq!(
        v["resets"]["monthly"], "2027-01-01T00:00:00Z",
        "across the year end"
    );
    let mid = humantime::parse_rfc3339("2026-01-31T00:00:00Z").unwrap();
    assert_eq!(
        humantime::format_rfc3339(crate::calendar::next_month_start(mid)).to_string(),
        "2026-02-01T00:00:00Z"
    );
    assert_eq!(
        humantime::format_rfc3339(crate::calendar::next_day_start(mid)).to_string(),
        "2026-02-01T00:00:00Z",
        "exactly midnight resets at the next midnight"
    );
}
