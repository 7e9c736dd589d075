//! Test helpers: run a stream translator over a transcript split at chosen byte offsets.

use super::{StreamTranslator, TranslateCtx};
use crate::providers::settings::ProviderKind;
use bytes::BytesMut;
use serde_json::Value;

/// Context used by translator tests.
pub fn ctx(include_usage: bool) -> TranslateCtx<'static> {
    TranslateCtx {
        provider: "test-provider",
        request_id: "req1",
        created: 1_700_000_000,
        include_usage,
        format: None,
        tool_answer: false,
    }
}

/// Outcome of translating a whole transcript.
#[derive(Debug, PartialEq)]
pub struct Run {
    pub output: String,
    pub error: Option<String>,
}

/// Context of a request that asked for structured output through the answer tool.
pub fn answer_ctx() -> TranslateCtx<'static> {
    TranslateCtx {
        tool_answer: true,
        ..ctx(false)
    }
}

/// Translates `input` fed in pieces cut at `cuts` (sorted offsets), then finishes.
pub fn run(kind: ProviderKind, include_usage: bool, input: &[u8], cuts: &[usize]) -> Run {
    run_ctx(kind, &ctx(include_usage), input, cuts)
}

/// [`run`] under `ctx`.
pub fn run_ctx(kind: ProviderKind, ctx: &TranslateCtx<'_>, input: &[u8], cuts: &[usize]) -> Run {
    let mut t = StreamTranslator::new(kind, ctx, "requested-model");
    let mut out = BytesMut::new();
    let mut last = 0;
    let mut error = None;
    for &c in cuts.iter().chain(std::iter::once(&input.len())) {
        let c = c.clamp(last, input.len());
        if let Err(e) = t.feed(&input[last..c], &mut out) {
            error = Some(e.to_string());
            break;
        }
        last = c;
    }
    if error.is_none() {
        if let Err(e) = t.finish(&mut out) {
            error = Some(e.to_string());
        }
    }
    Run {
        output: String::from_utf8(out.to_vec()).expect("translator output must be UTF-8"),
        error,
    }
}

/// Splits translator output into parsed chunk objects, checking the SSE framing.
/// Returns the chunks and whether the stream ended with `[DONE]`.
pub fn chunks(output: &str) -> (Vec<Value>, bool) {
    let mut done = false;
    let mut out = Vec::new();
    for event in output.split_terminator("\n\n") {
        let data = event
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("bad frame: {event:?}"));
        assert!(!done, "data after [DONE]");
        if data == "[DONE]" {
            done = true;
        } else {
            out.push(
                serde_json::from_str(data)
                    .unwrap_or_else(|e| panic!("invalid chunk JSON {data}: {e}")),
            );
        }
    }
    assert!(
        output.is_empty() || output.ends_with("\n\n"),
        "output must end on an event boundary"
    );
    (out, done)
}

/// What a client assembling the OpenAI stream would end up with.
#[derive(Debug, Default, PartialEq)]
pub struct Assembled {
    pub content: String,
    pub reasoning: String,
    /// (id, name, arguments) per tool call index.
    pub tool_calls: Vec<(String, String, String)>,
    pub finish_reason: Option<String>,
    pub usage: Option<Value>,
}

/// Assembles chunks the way the OpenAI SDK does.
pub fn assemble(chunks: &[Value]) -> Assembled {
    let mut a = Assembled::default();
    for c in chunks {
        if let Some(u) = c.get("usage").filter(|u| !u.is_null()) {
            a.usage = Some(u.clone());
        }
        let Some(choice) = c["choices"].get(0) else {
            continue;
        };
        let d = &choice["delta"];
        if let Some(t) = d["content"].as_str() {
            a.content.push_str(t);
        }
        if let Some(t) = d["reasoning_content"].as_str() {
            a.reasoning.push_str(t);
        }
        for tc in d["tool_calls"].as_array().into_iter().flatten() {
            let i = tc["index"].as_u64().expect("tool call index") as usize;
            if i == a.tool_calls.len() {
                let id = tc["id"].as_str().expect("first fragment carries id");
                let name = tc["function"]["name"]
                    .as_str()
                    .expect("first fragment carries name");
                a.tool_calls.push((id.into(), name.into(), String::new()));
            }
            a.tool_calls[i]
                .2
                .push_str(tc["function"]["arguments"].as_str().unwrap_or(""));
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            a.finish_reason = Some(f.to_string());
        }
    }
    a
}

/// Asserts that every single split point gives the output of the unsplit transcript.
pub fn assert_split_invariant(kind: ProviderKind, include_usage: bool, input: &[u8]) -> Run {
    assert_split_invariant_ctx(kind, &ctx(include_usage), input)
}

/// [`assert_split_invariant`] under `ctx`.
pub fn assert_split_invariant_ctx(kind: ProviderKind, ctx: &TranslateCtx<'_>, input: &[u8]) -> Run {
    let whole = run_ctx(kind, ctx, input, &[]);
    for i in 0..=input.len() {
        assert_eq!(run_ctx(kind, ctx, input, &[i]), whole, "split at byte {i}");
    }
    for i in (0..input.len()).step_by(7) {
        let cuts: Vec<usize> = (i..input.len()).step_by(3).collect();
        assert_eq!(
            run_ctx(kind, ctx, input, &cuts),
            whole,
            "3-byte pieces from {i}"
        );
    }
    whole
}

/// Translates a well-formed transcript split at every byte (see [`assert_split_invariant`]),
/// asserts it ends without error and with `[DONE]`, and returns its chunks.
pub fn translate_ok(kind: ProviderKind, include_usage: bool, input: &[u8]) -> Vec<Value> {
    let run = assert_split_invariant(kind, include_usage, input);
    assert_eq!(run.error, None);
    let (c, done) = chunks(&run.output);
    assert!(done, "stream must end with [DONE]");
    c
}

/// Asserts the framing every chunk of one streamed answer shares: the role chunk first, then
/// the request's id, `model` and the chunk object type on every chunk.
pub fn assert_framing(c: &[Value], model: &str) {
    assert_eq!(
        c[0]["choices"][0]["delta"],
        serde_json::json!({"role": "assistant", "content": ""})
    );
    for chunk in c {
        assert_eq!(chunk["id"], "chatcmpl-req1");
        assert_eq!(chunk["model"], model, "chunk {chunk}");
        assert_eq!(chunk["object"], "chat.completion.chunk");
    }
}

/// A provider of `kind` named `test-provider` at a loopback base URL, from a real config
/// (so validation defaults apply). Bedrock gets fixed test credentials and region.
pub fn provider(kind: ProviderKind) -> crate::providers::settings::ProviderSettings {
    let extra = match kind {
        ProviderKind::Bedrock => {
            "region: us-east-1, aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        }
        _ => "api_key: sk-test-provider-key",
    };
    let yaml = format!(
        "providers:\n  - {{ name: test-provider, kind: {}, base_url: \"http://127.0.0.1:9\", {extra} }}\nkeys:\n  - {{ name: k, key: sk-test-client-key }}\n",
        kind.as_str()
    );
    let c = crate::config::Config::from_yaml(&yaml, &|_| None).expect("test config");
    let p = c.providers[0].clone();
    drop(c);
    std::sync::Arc::try_unwrap(p).expect("sole owner")
}
