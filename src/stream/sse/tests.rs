//! SSE framing tests, including the split-anywhere property.

use super::*;
use proptest::prelude::*;

fn collect(parser: &mut SseParser, out: &mut Vec<(String, String)>) {
    while let Some(ev) = parser.next_event().unwrap() {
        out.push((ev.event.to_string(), ev.data.to_string()));
    }
}

fn parse_split(input: &[u8], cuts: &[usize]) -> Vec<(String, String)> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    let mut last = 0;
    for &c in cuts {
        let c = c.min(input.len()).max(last);
        p.feed(&input[last..c]);
        collect(&mut p, &mut out);
        last = c;
    }
    p.feed(&input[last..]);
    collect(&mut p, &mut out);
    if let Some(ev) = p.finish().unwrap() {
        out.push((ev.event.to_string(), ev.data.to_string()));
    }
    out
}

const MIXED: &str = "event: message_start\ndata: {\"a\":\"héllo ✓ 🚀\"}\n\n: comment\r\nevent: ping\r\ndata: {}\r\n\r\ndata: line1\rdata: line2\r\rid: 7\nretry: 100\ndata:nospace\n\n";

/// Named events, CRLF, lone CR, multi-line data, comments and id/retry fields.
#[test]
fn parses_all_line_endings_and_fields() {
    let events = parse_split(MIXED.as_bytes(), &[]);
    assert_eq!(
        events,
        vec![
            ("message_start".into(), "{\"a\":\"héllo ✓ 🚀\"}".into()),
            ("ping".into(), "{}".into()),
            ("".into(), "line1\nline2".into()),
            ("".into(), "nospace".into()),
        ]
    );
}

/// Every single split point gives the same events.
#[test]
fn every_split_point_is_equivalent() {
    let whole = parse_split(MIXED.as_bytes(), &[]);
    for i in 0..=MIXED.len() {
        assert_eq!(parse_split(MIXED.as_bytes(), &[i]), whole, "split at {i}");
    }
}

/// A last event without its blank line is still delivered at the end of the body.
#[test]
fn final_event_without_blank_line() {
    assert_eq!(
        parse_split(b"data: [DONE]", &[]),
        vec![("".into(), "[DONE]".into())]
    );
    assert_eq!(
        parse_split(b"data: [DONE]\n", &[]),
        vec![("".into(), "[DONE]".into())]
    );
    assert!(
        parse_split(b"event: x\n\n", &[]).is_empty(),
        "events without data are not dispatched"
    );
}

/// Invalid UTF-8 inside a line is an error, not a panic.
#[test]
fn invalid_utf8_is_an_error() {
    let mut p = SseParser::new();
    p.feed(b"data: \xff\xfe\n\n");
    assert_eq!(p.next_event().unwrap_err(), SseError::InvalidUtf8);
}

/// An endless line without terminator hits the size limit.
#[test]
fn oversized_line_is_rejected() {
    let mut p = SseParser::with_limit(64);
    p.feed(&[b'a'; 100]);
    assert!(matches!(p.next_event(), Err(SseError::EventTooLarge(64))));
    let mut p = SseParser::with_limit(64);
    for _ in 0..10 {
        p.feed(b"data: 0123456789\n");
    }
    assert!(matches!(p.next_event(), Err(SseError::EventTooLarge(64))));
}

proptest! {
    /// Any partition of any stream of valid events yields the events of the unsplit stream.
    #[test]
    fn split_anywhere_property(
        events in proptest::collection::vec(("[a-z_]{0,12}", "[ -~éü✓🚀]{0,40}"), 0..8),
        crlf in any::<bool>(),
        cuts in proptest::collection::vec(0usize..400, 0..12),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        for (name, data) in &events {
            if !name.is_empty() { text.push_str(&format!("event: {name}{nl}")); }
            text.push_str(&format!("data: {data}{nl}{nl}"));
        }
        let mut cuts = cuts;
        cuts.sort_unstable();
        let got = parse_split(text.as_bytes(), &cuts);
        prop_assert_eq!(got, events);
    }
}
