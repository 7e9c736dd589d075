//! Answering a Gemini request once auth, directives and faults were handled by the server:
//! `generateContent` (JSON), `streamGenerateContent` (SSE with `alt=sse`, a JSON array
//! without), `batchEmbedContents`, and the `block=REASON` directive.

use bytes::Bytes;
use pingora::protocols::http::ServerSession;
use serde_json::Value;

use crate::delivery::{self, Head, Outcome, StreamFaults};
use crate::directives::Directives;
use crate::gemini::{self, Method};
use crate::scenario::{self, Style};
use crate::server::{Api, EmulatorApp};

/// What the path asked for.
pub struct Call<'a> {
    /// Reported model (before `#`).
    pub model: &'a str,
    pub method: Method,
    /// `block=REASON`: answer with a blocked prompt.
    pub block: Option<String>,
}

impl EmulatorApp {
    pub(crate) async fn gemini(
        &self,
        s: &mut ServerSession,
        mut head: Head,
        json: &Value,
        call: Call<'_>,
        d: &Directives,
        req_id: u64,
    ) -> Outcome {
        if call.method == Method::Embed {
            return match gemini::render::embed(json, call.model) {
                Ok(body) => {
                    head.status = 200;
                    delivery::send_full(s, &head, Bytes::from(body), d.drop_after).await
                }
                Err(e) => self.fail(s, Api::Gemini, head, &e, req_id).await,
            };
        }
        let conv = match gemini::parse(json, d.thinking) {
            Ok(c) => c,
            Err(e) => return self.fail(s, Api::Gemini, head, &e, req_id).await,
        };
        let style = Style {
            tool_preamble: None,
            thinking: d.thinking,
        };
        let plan = scenario::plan(&conv, d, style);
        head.status = 200;
        let ctx = gemini::render::Ctx {
            id: req_id,
            model: call.model,
            no_usage: d.no_usage,
            thinking: d.thinking,
        };
        let sse = s
            .req_header()
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
        let streamed = call.method == Method::Stream && sse;
        if let Some(reason) = &call.block {
            let v = gemini::render::blocked(reason, plan.usage.input_tokens, &ctx);
            if streamed {
                head.content_type = "text/event-stream";
                let events = gemini::render::blocked_sse(&v);
                return delivery::send_sse(s, &head, events, &StreamFaults::default()).await;
            }
            let body = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
            return delivery::send_full(s, &head, body, None).await;
        }
        if !streamed {
            let body = match call.method {
                Method::Stream => gemini::render::render_array(&plan, &ctx),
                _ => gemini::render::render_json(&plan, &ctx),
            };
            return delivery::send_full(s, &head, Bytes::from(body), d.drop_after).await;
        }
        head.content_type = "text/event-stream";
        let faults = StreamFaults {
            chunk_ms: d.chunk_ms,
            split: d.split,
            drop_after: d.drop_after,
            error_after: d.error_after,
            error_event: gemini::render::stream_error_event(),
        };
        delivery::send_sse(s, &head, gemini::render::render_sse(&plan, &ctx), &faults).await
    }
}
