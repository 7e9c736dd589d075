use super::*;

fn err(status: u16) -> GatewayError {
    GatewayError::new(status, ErrorKind::Upstream, "x")
}

/// provider status, client status, label, breaker kind, fails over, repeatable
type Case = (u16, u16, &'static str, Option<FailureKind>, bool, bool);

/// Each provider status lands in the failure it means, with the same answers the attempt
/// loop, the breaker and the metrics rely on.
#[test]
fn statuses_classify() {
    let cases: [Case; 9] = [
        (
            429,
            429,
            "status_429",
            Some(FailureKind::RateLimited),
            true,
            true,
        ),
        (
            529,
            503,
            "status_5xx",
            Some(FailureKind::Server),
            true,
            true,
        ),
        (
            503,
            503,
            "status_5xx",
            Some(FailureKind::Server),
            true,
            true,
        ),
        (
            500,
            502,
            "status_5xx",
            Some(FailureKind::Server),
            true,
            true,
        ),
        (
            400,
            400,
            "status_4xx",
            Some(FailureKind::Client),
            false,
            false,
        ),
        (
            422,
            400,
            "status_4xx",
            Some(FailureKind::Client),
            false,
            false,
        ),
        (
            401,
            502,
            "status_4xx",
            Some(FailureKind::Client),
            true,
            false,
        ),
        (
            404,
            404,
            "status_4xx",
            Some(FailureKind::Client),
            true,
            false,
        ),
        (
            409,
            409,
            "status_4xx",
            Some(FailureKind::Client),
            true,
            false,
        ),
    ];
    for (status, client, label, kind, over, again) in cases {
        let f = AttemptFailure::from_status(status, b"{}", err(client), None);
        assert_eq!(f.label(), label, "{status}");
        assert_eq!(f.kind(), kind, "{status}");
        assert_eq!(f.fails_over(), over, "{status}");
        assert_eq!(f.repeatable(), again, "{status}");
        assert_eq!(f.error().status, client, "{status}");
    }
}

/// A context-window 400 fails over (another target may have a larger window), carries
/// OpenAI's code, and is never held against the target.
#[test]
fn context_window() {
    let body = br#"{"type":"error","error":{"message":"prompt is too long: 208310 tokens > 200000 maximum"}}"#;
    let f = AttemptFailure::from_status(400, body, err(400), None);
    assert_eq!(f.label(), "context_window");
    assert_eq!(f.kind(), Some(FailureKind::ContextWindow));
    assert!(f.fails_over());
    assert!(!f.repeatable());
    assert_eq!(
        f.into_error().code.as_deref(),
        Some("context_length_exceeded")
    );
    // The same phrase in a 5xx is a server error.
    let f = AttemptFailure::from_status(500, body, err(502), None);
    assert_eq!(f.label(), "status_5xx");
}

/// Retry-After windows come only from rate limits and overloads.
#[test]
fn retry_after_windows() {
    let f = AttemptFailure::from_status(429, b"", err(429), Some(7));
    assert_eq!(f.retry_after(), Some(Duration::from_secs(7)));
    let f = AttemptFailure::from_status(529, b"", err(503), Some(3));
    assert_eq!(f.retry_after(), Some(Duration::from_secs(3)));
    let f = AttemptFailure::from_status(500, b"", err(502), Some(3));
    assert_eq!(f.retry_after(), None);
    assert_eq!(AttemptFailure::timeout(err(504)).retry_after(), None);
}

/// Stream errors and undecodable answers fail over only when their status says the provider
/// is at fault; a refusal (4xx) is the client's answer.
#[test]
fn stream_and_decode_failures() {
    let s = AttemptFailure::stream(err(502));
    assert_eq!(
        (s.label(), s.kind(), s.fails_over()),
        ("stream_error", Some(FailureKind::Stream), true)
    );
    let s = AttemptFailure::stream(err(400));
    assert!(!s.fails_over());
    let d = AttemptFailure::invalid_response(err(400));
    assert_eq!(
        (d.label(), d.kind(), d.fails_over()),
        ("invalid_response", Some(FailureKind::Client), false)
    );
    let d = AttemptFailure::invalid_response(err(502));
    assert_eq!(
        (d.kind(), d.fails_over()),
        (Some(FailureKind::Server), true)
    );
    let r = AttemptFailure::read(err(504));
    assert_eq!(
        (r.label(), r.kind(), r.fails_over(), r.repeatable()),
        ("read_error", Some(FailureKind::Stream), true, true)
    );
}

/// Transport failures fail over and may be re-tried; an internal error has no verdict.
#[test]
fn transport_and_internal() {
    let c = AttemptFailure::connect(unreachable("p", "refused"));
    assert_eq!(
        (c.label(), c.kind(), c.fails_over(), c.repeatable()),
        ("connect_error", Some(FailureKind::Connect), true, true)
    );
    assert_eq!(c.error().code.as_deref(), Some("upstream_unreachable"));
    let t = AttemptFailure::timeout(first_byte_timeout("p"));
    assert_eq!(
        (t.label(), t.kind(), t.error().status),
        ("timeout", Some(FailureKind::Timeout), 504)
    );
    let i = AttemptFailure::internal(GatewayError::internal());
    assert_eq!(
        (i.label(), i.kind(), i.fails_over()),
        ("internal", None, false)
    );
}
