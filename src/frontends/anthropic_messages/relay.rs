//! Anthropic stream → Anthropic client: events are relayed unchanged (re-framed as
//! `event: <data.type>\ndata: <data>\n\n`), while the gateway reads usage from `message_start`
//! and `message_delta`, turns an `error` event into an error (so one arriving before any output
//! can still fail over, and a later one is written as an Anthropic `event: error`), and reports
//! a stream that ends without `message_stop` as truncated.

use crate::error::GatewayError;
use crate::providers::anthropic::{ErrorBody, UsageWire};
use crate::providers::sse_driver::{SseMachine, SseTranslator};
use crate::providers::{TranslateCtx, malformed_stream};
use crate::translate::Usage;
use bytes::BytesMut;
use serde::Deserialize;
use std::borrow::Cow;

/// The pass-through stream translator.
pub type RelayStream = SseTranslator<Relay>;

/// The pass-through state machine.
#[derive(Debug)]
pub struct Relay {
    provider: String,
    usage: Usage,
    input_tokens: u64,
    has_output: bool,
    done: bool,
}

impl Relay {
    /// A relay for one stream.
    pub fn stream(ctx: &TranslateCtx<'_>) -> RelayStream {
        SseTranslator::new(Relay {
            provider: ctx.provider.to_string(),
            usage: Usage::default(),
            input_tokens: 0,
            has_output: false,
            done: false,
        })
    }
}

/// Only the fields the gateway reads; every other field is skipped without allocating.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    message: Option<StartMessage>,
    #[serde(default)]
    usage: Option<UsageWire>,
    #[serde(borrow, default)]
    error: Option<ErrorBody<'a>>,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: Option<UsageWire>,
}

impl SseMachine for Relay {
    fn event(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        if data.trim().is_empty() {
            return Ok(());
        }
        let probe: Probe<'_> = serde_json::from_str(data).map_err(malformed_stream)?;
        match probe.kind.as_ref() {
            "error" => return Err(self.error(probe.error)),
            "message_start" => {
                if let Some(u) = probe.message.and_then(|m| m.usage) {
                    u.merge_into(&mut self.usage, &mut self.input_tokens);
                }
            }
            "message_delta" => {
                if let Some(u) = probe.usage {
                    u.merge_into(&mut self.usage, &mut self.input_tokens);
                }
                self.has_output = true;
            }
            "content_block_start" | "content_block_delta" => self.has_output = true,
            "message_stop" => {
                self.has_output = true;
                self.done = true;
            }
            _ => {}
        }
        super::events::event(out, &probe.kind, data.as_bytes());
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn provider(&self) -> &str {
        &self.provider
    }

    fn has_output(&self) -> bool {
        self.has_output
    }

    fn usage(&self) -> Usage {
        self.usage
    }
}

impl Relay {
    /// An `error` event, mapped like the equivalent HTTP error.
    fn error(&self, body: Option<ErrorBody<'_>>) -> GatewayError {
        let (kind, message) = body.map(|e| (e.kind, e.message)).unwrap_or((None, None));
        let status = match kind.as_deref() {
            Some("overloaded_error") => 529,
            Some("rate_limit_error") => 429,
            Some("invalid_request_error") => 400,
            Some("timeout_error") => 504,
            _ => 500,
        };
        let detail = message
            .as_deref()
            .or(kind.as_deref())
            .unwrap_or("error event");
        crate::providers::upstream_error(&self.provider, status, Some(detail), None)
    }
}

/// An Anthropic provider's error answer to a pass-through Messages request. A refusal of the
/// request itself (400, 413, 422 with an Anthropic error body) keeps Anthropic's own message,
/// not the gateway's "provider … returned …" summary: the client speaks the same API, and
/// Claude Code recognises some refusals by their wording. Other statuses keep `e`.
pub fn relay_error(mut e: GatewayError, status: u16, body: &[u8]) -> GatewayError {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        error: ErrorBody<'a>,
    }
    if !matches!(status, 400 | 413 | 422) {
        return e;
    }
    if let Ok(Envelope {
        error: ErrorBody {
            message: Some(m), ..
        },
    }) = serde_json::from_slice::<Envelope<'_>>(body)
    {
        e.message = Cow::Owned(m.into_owned());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testutil::ctx;
    use crate::stream::SseParser;

    const TEXT: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/anthropic/text.sse"
    ));
    const TOOLS: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/anthropic/tool_use.sse"
    ));

    fn events(out: &[u8]) -> Vec<(String, String)> {
        let mut p = SseParser::new();
        p.feed(out);
        let mut v = Vec::new();
        while let Some(e) = p.next_event().unwrap() {
            v.push((e.event.to_string(), e.data.to_string()));
        }
        v
    }

    /// Every event of a real transcript is relayed with its data unchanged, whatever the
    /// split, and usage is read from message_start and message_delta.
    #[test]
    fn relays_unchanged_at_every_split() {
        for input in [TEXT, TOOLS] {
            let want: Vec<_> = events(input).into_iter().map(|(_, d)| d).collect();
            for cut in 0..=input.len() {
                let mut r = Relay::stream(&ctx(false));
                let mut out = BytesMut::new();
                r.feed(&input[..cut], &mut out).unwrap();
                r.feed(&input[cut..], &mut out).unwrap();
                r.finish(&mut out).unwrap();
                let got = events(&out);
                assert_eq!(got.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>(), want);
                for (name, data) in &got {
                    let v: serde_json::Value = serde_json::from_str(data).unwrap();
                    assert_eq!(v["type"], name.as_str());
                }
                assert!(r.machine().usage().completion_tokens > 0);
                assert!(r.machine().usage().prompt_tokens > 0);
            }
        }
    }

    /// A stream without message_stop is truncated; an error event is an error.
    #[test]
    fn truncation_and_errors() {
        let cut = &TEXT[..TEXT.len() - 40];
        let mut r = Relay::stream(&ctx(false));
        let mut out = BytesMut::new();
        r.feed(cut, &mut out).unwrap();
        assert!(r.finish(&mut out).is_err());
        let mut r = Relay::stream(&ctx(false));
        let err = r
            .feed(b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", &mut out)
            .unwrap_err();
        assert_eq!(err.status, 503);
        assert_eq!(err.kind.anthropic_type(), "overloaded_error");
        assert!(!r.machine().has_output());
    }

    /// A 400 from an Anthropic provider keeps its own message; a 429 keeps the gateway's.
    #[test]
    fn refusals_keep_anthropic_wording() {
        let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"messages: Unexpected role \"system\"."},"request_id":"req_1"}"#;
        let e = crate::providers::upstream_error("emu", 400, Some("x (y)"), None);
        let r = relay_error(e, 400, body);
        assert_eq!(r.message, "messages: Unexpected role \"system\".");
        assert_eq!(
            (r.status, r.kind.anthropic_type()),
            (400, "invalid_request_error")
        );
        let e = crate::providers::upstream_error("emu", 429, Some("slow"), None);
        let r = relay_error(e, 429, body);
        assert_eq!(r.message, "provider emu returned 429: slow");
        let e = crate::providers::upstream_error("emu", 400, None, None);
        assert!(
            relay_error(e, 400, b"not json")
                .message
                .starts_with("provider emu")
        );
    }
}
