//! Redaction (each built-in rule, custom rules, secrets), truncation at UTF-8 boundaries, and
//! the writer's file (mode, lines, flush, drops).

use super::redact::{REDACT_MARGIN, SECRET_MARK, TRUNCATED, cap, redact_capped};
use super::*;

fn redactor() -> Redactor {
    Redactor::new(&[]).unwrap()
}

#[test]
fn built_in_rules() {
    let r = redactor();
    let cases = [
        (
            "key sk-proj-AbCdEf0123456789xyz_-Q end",
            "key [REDACTED:openai_key] end",
        ),
        (
            "anthropic: sk-ant-api03-AbCdEf0123456789",
            "anthropic: [REDACTED:anthropic_key]",
        ),
        (
            "{\"k\":\"sy-0123456789abcdefXYZ\"}",
            "{\"k\":\"[REDACTED:switchyard_key]\"}",
        ),
        (
            "AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A.",
            "[REDACTED:aws_access_key_id] and [REDACTED:aws_access_key_id].",
        ),
        (
            "Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9-x_y",
            "Authorization: Bearer [REDACTED]",
        ),
        (
            "authorization: bearer abcdefgh1234",
            "authorization: bearer [REDACTED]",
        ),
        (
            "g=AIzaSyA-1234567890abcdefghijklmnopqrstu&x",
            "g=[REDACTED:google_api_key]&x",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(r.redact(input), want, "{input}");
    }
}

#[test]
fn ordinary_text_is_untouched() {
    let r = redactor();
    for text in [
        "ask-me-anything-0123456789abcdef",
        "task-0123456789abcdefghij",
        "sk-short",
        "AKIA-not-a-key",
        "the bearer of bad news",
        "Привет, мир",
    ] {
        assert!(
            matches!(r.redact(text), std::borrow::Cow::Borrowed(_)),
            "{text}"
        );
    }
}

#[test]
fn custom_rules_and_secrets() {
    let rules = [
        RedactRule {
            pattern: r"\b\d{3}-\d{2}-\d{4}\b".into(),
            replace: "[SSN]".into(),
        },
        RedactRule {
            pattern: r"(?P<user>[a-z]+)@example\.com".into(),
            replace: "${user}@[domain]".into(),
        },
    ];
    let r = Redactor::new(&rules)
        .unwrap()
        .with_secrets(&["hunter2", "", "p|a.ss*"])
        .with_secrets(&["hunter2-long"]);
    assert_eq!(
        r.redact("ssn 123-45-6789 mail bob@example.com pw hunter2 and hunter2-long, p|a.ss* x"),
        format!("ssn [SSN] mail bob@[domain] pw {SECRET_MARK} and {SECRET_MARK}, {SECRET_MARK} x")
    );
    assert_eq!(r.redact("pass"), "pass", "metacharacters are literal");
    let shown = format!("{r:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("secrets: 3") && shown.contains("custom_rules: 2"),
        "{shown}"
    );

    let bad = Redactor::new(&[RedactRule {
        pattern: "(sk-secret".into(),
        replace: String::new(),
    }])
    .unwrap_err();
    assert!(bad.contains("#1") && !bad.contains("sk-secret"), "{bad}");
}

#[test]
fn truncation_respects_utf8() {
    assert_eq!(cap("short", 10), "short");
    assert_eq!(cap("exactly", 7), "exactly");
    assert_eq!(cap("abcdef", 3), format!("abc{TRUNCATED}"));
    // "é" is two bytes: a cut inside it backs off to before it.
    assert_eq!(cap("aé", 2), format!("a{TRUNCATED}"));
    assert_eq!(cap("😀😀", 5), format!("😀{TRUNCATED}"));
    assert_eq!(cap("😀", 0), TRUNCATED);
}

#[test]
fn secrets_across_the_cap_are_redacted_before_cutting() {
    let r = redactor().with_secrets(&["0123456789-provider-secret"]);
    // The secret starts 5 bytes before the cap: cutting first would leak "01234".
    let text = format!("{}0123456789-provider-secret tail", "a".repeat(95));
    let out = redact_capped(&r, &text, 100);
    assert_eq!(out, format!("{}[REDA{TRUNCATED}", "a".repeat(95)));
    assert!(!out.contains("01234"));
    // A huge body is scanned only up to the cap plus the margin.
    let huge = format!(
        "sk-ant-api03-AbCdEf0123456789 {}",
        "x".repeat(10 * REDACT_MARGIN)
    );
    let out = redact_capped(&r, &huge, 64);
    assert!(out.starts_with("[REDACTED:anthropic_key] xxx"), "{out}");
    assert!(
        out.ends_with(TRUNCATED) && out.len() == 64 + TRUNCATED.len(),
        "{out}"
    );
}

fn event(i: usize, request: &str) -> AuditEvent {
    AuditEvent {
        ts: humantime::parse_rfc3339("2026-11-26T10:00:00.123Z").unwrap(),
        request_id: format!("req-{i}"),
        key_id: "key_1".into(),
        key_name: "ci".into(),
        endpoint: "chat".into(),
        model: Some("gpt-4o".into()),
        status: 200,
        request: request.into(),
        response: "fine".into(),
    }
}

fn dropped_count(reason: &str) -> u64 {
    AUDIT_DROPPED.with_label_values(&[reason]).get()
}

#[tokio::test]
async fn writer_appends_redacted_lines_and_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/audit.jsonl");
    let config = AuditConfig {
        path: path.clone(),
        max_bytes: 40,
        redact: Vec::new(),
    };
    let (log, writer) = AuditLog::new(&config, &["provider-secret-1"]).unwrap();
    assert!(log.is_on());
    let task = tokio::spawn(async move { writer.run(None).await });
    log.record(event(1, "use provider-secret-1 please"));
    log.record(event(2, &"é".repeat(100)));
    log.flush(Duration::from_secs(5)).await;

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["ts"], "2026-11-26T10:00:00.123Z");
    assert_eq!(lines[0]["request_id"], "req-1");
    assert_eq!(lines[0]["key_id"], "key_1");
    assert_eq!(lines[0]["model"], "gpt-4o");
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["request"], format!("use {SECRET_MARK} please"));
    assert!(!text.contains("provider-secret-1"));
    assert_eq!(
        lines[1]["request"],
        format!("{}{TRUNCATED}", "é".repeat(20))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Appends across restarts; the last handle dropped ends the writer after a final flush.
    log.record(event(3, "x"));
    drop(log);
    task.await.unwrap();
    let (log2, writer2) = AuditLog::new(&config, &[]).unwrap();
    let task = tokio::spawn(async move { writer2.run(None).await });
    log2.record(event(4, "y"));
    drop(log2);
    task.await.unwrap();
    let ids: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["request_id"].to_string())
        .collect();
    assert_eq!(ids, ["\"req-1\"", "\"req-2\"", "\"req-3\"", "\"req-4\""]);
}

#[tokio::test]
async fn full_queue_and_unwritable_file_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let config = AuditConfig {
        path: dir.path().join("a.jsonl"),
        ..AuditConfig::default()
    };
    let (log, writer) = AuditLog::with_capacity(&config, &[], 2).unwrap();
    let before = dropped_count("queue_full");
    for i in 0..5 {
        log.record(event(i, "x"));
    }
    assert_eq!(dropped_count("queue_full") - before, 3);
    drop(writer);
    let before = dropped_count("closed");
    log.record(event(9, "x"));
    assert_eq!(dropped_count("closed") - before, 1);

    // A directory where the file should be: every event fails to write.
    let config = AuditConfig {
        path: dir.path().to_path_buf(),
        ..AuditConfig::default()
    };
    let (log, writer) = AuditLog::new(&config, &[]).unwrap();
    let before = dropped_count("write_error");
    let task = tokio::spawn(async move { writer.run(None).await });
    log.record(event(1, "x"));
    log.record(event(2, "x"));
    drop(log);
    task.await.unwrap();
    assert_eq!(dropped_count("write_error") - before, 2);

    let off = AuditLog::off();
    assert!(!off.is_on());
    off.record(event(1, "x"));
    off.flush(Duration::from_millis(1)).await;
}

#[test]
fn config_defaults() {
    let c: AuditConfig = serde_yaml::from_str("redact: [{pattern: 'x+'}]").unwrap();
    assert_eq!(c.path, PathBuf::from(DEFAULT_PATH));
    assert_eq!(c.max_bytes, DEFAULT_MAX_BYTES);
    assert_eq!(c.redact[0].replace, "[REDACTED]");
    assert!(serde_yaml::from_str::<AuditConfig>("bogus: 1").is_err());
}
