//! OpenAI outbound wire format: the `chat.completion` object and `chat.completion.chunk` SSE
//! events, written straight into a caller-owned buffer.
//!
//! [`OpenAiChunks`] renders the per-stream constant part of every chunk (`id`, `created`,
//! `model`) once, so a translated token costs one escaped string and a few `memcpy`s.
//! [`ChunkWriter`] is what provider stream translators write to: OpenAI chunks, or the
//! [`ChunkSink`] of the request's client format.

use super::TranslateCtx;
use super::events::ChunkSink;
use super::reasoning::{DETAIL_FORMAT, Thought};
use super::{FinishReason, Usage};
use bytes::{BufMut, BytesMut};
use serde::Serialize;

/// Where a provider's stream translator writes its events.
#[derive(Debug)]
pub enum ChunkWriter {
    /// OpenAI `chat.completion.chunk` events (no dynamic dispatch on the chat path).
    OpenAi(OpenAiChunks),
    /// Another client format's renderer.
    Client(Box<dyn ChunkSink>),
}

impl ChunkWriter {
    /// OpenAI chunks for `id`, `created` and `model`.
    pub fn new(id: &str, created: u64, model: &str) -> Self {
        ChunkWriter::OpenAi(OpenAiChunks::new(id, created, model))
    }

    /// The writer of a stream under `ctx`: the client format's sink when it has one, else
    /// OpenAI chunks with the id `id`.
    pub fn for_stream(ctx: &TranslateCtx<'_>, id: &str, model: &str) -> Self {
        match ctx.format {
            Some(f) => ChunkWriter::Client((f.sink)(ctx, model)),
            None => Self::new(id, ctx.created, model),
        }
    }

    fn sink(&mut self) -> &mut dyn ChunkSink {
        match self {
            ChunkWriter::OpenAi(w) => w,
            ChunkWriter::Client(s) => s.as_mut(),
        }
    }

    /// See [`ChunkSink::set_model`].
    pub fn set_model(&mut self, model: &str) {
        self.sink().set_model(model);
    }

    /// The start of the answer, unless `started` says it was sent already; sets `started`.
    pub fn role_once(&mut self, out: &mut BytesMut, started: &mut bool) {
        if !*started {
            *started = true;
            self.sink().role(out);
        }
    }

    /// See [`ChunkSink::content`].
    pub fn content(&mut self, out: &mut BytesMut, text: &str) {
        self.sink().content(out, text);
    }

    /// See [`ChunkSink::reasoning`].
    pub fn reasoning(&mut self, out: &mut BytesMut, text: &str) {
        self.sink().reasoning(out, text);
    }

    /// See [`ChunkSink::reasoning_signature`].
    pub fn reasoning_signature(&mut self, out: &mut BytesMut, signature: &str) {
        self.sink().reasoning_signature(out, signature);
    }

    /// See [`ChunkSink::reasoning_redacted`].
    pub fn reasoning_redacted(&mut self, out: &mut BytesMut, data: &str) {
        self.sink().reasoning_redacted(out, data);
    }

    /// See [`ChunkSink::tool_call_start`].
    pub fn tool_call_start(&mut self, out: &mut BytesMut, index: u32, id: &str, name: &str) {
        self.sink().tool_call_start(out, index, id, name);
    }

    /// See [`ChunkSink::tool_call_args`].
    pub fn tool_call_args(&mut self, out: &mut BytesMut, index: u32, fragment: &str) {
        self.sink().tool_call_args(out, index, fragment);
    }

    /// See [`ChunkSink::tool_call_whole`].
    pub fn tool_call_whole(
        &mut self,
        out: &mut BytesMut,
        index: u32,
        id: &str,
        name: &str,
        arguments: &str,
    ) {
        self.sink().tool_call_whole(out, index, id, name, arguments);
    }

    /// See [`ChunkSink::end`].
    pub fn end(&mut self, out: &mut BytesMut, reason: FinishReason, usage: Option<Usage>) {
        self.sink().end(out, reason, usage);
    }
}

/// Writes OpenAI stream chunks for one response.
#[derive(Debug, Clone)]
pub struct OpenAiChunks {
    /// `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…`
    prefix: Vec<u8>,
    /// Length of the prefix up to and including `"created":N`; the model follows.
    model_at: usize,
}

const CHOICE_OPEN: &[u8] = br#","choices":[{"index":0,"delta":{"#;
const CHOICE_CLOSE: &[u8] = br#"},"logprobs":null,"finish_reason":null}]}"#;

impl OpenAiChunks {
    /// Prepares the constant prefix for `id`, `created` and `model`.
    pub fn new(id: &str, created: u64, model: &str) -> Self {
        let mut prefix = Vec::with_capacity(96 + id.len() + model.len());
        prefix.extend_from_slice(b"data: {\"id\":");
        push_json_str(&mut prefix, id);
        prefix.extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
        prefix.extend_from_slice(itoa(created).as_bytes());
        let model_at = prefix.len();
        let mut w = Self { prefix, model_at };
        w.set_model(model);
        w
    }

    /// Replaces the model name reported in later chunks.
    pub fn set_model(&mut self, model: &str) {
        self.prefix.truncate(self.model_at);
        self.prefix.extend_from_slice(b",\"model\":");
        push_json_str(&mut self.prefix, model);
    }

    fn open(&self, out: &mut BytesMut) {
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(CHOICE_OPEN);
    }

    fn close(out: &mut BytesMut) {
        out.extend_from_slice(CHOICE_CLOSE);
        out.extend_from_slice(b"\n\n");
    }

    /// The first chunk: `{"role":"assistant","content":""}`.
    pub fn role(&self, out: &mut BytesMut) {
        self.open(out);
        out.extend_from_slice(br#""role":"assistant","content":"""#);
        Self::close(out);
    }

    /// A content delta.
    pub fn content(&self, out: &mut BytesMut, text: &str) {
        self.open(out);
        out.extend_from_slice(br#""content":"#);
        push_json_str_buf(out, text);
        Self::close(out);
    }

    /// A reasoning delta (`reasoning_content`, as DeepSeek and other gateways expose it).
    pub fn reasoning(&self, out: &mut BytesMut, text: &str) {
        self.open(out);
        out.extend_from_slice(br#""reasoning_content":"#);
        push_json_str_buf(out, text);
        Self::close(out);
    }

    /// The signature closing the reasoning streamed so far, as a `reasoning_details` entry
    /// (the text went out as `reasoning_content`).
    pub fn reasoning_signature(&self, out: &mut BytesMut, signature: &str) {
        self.reasoning_detail(out, br#""type":"reasoning.text","signature":"#, signature);
    }

    /// A redacted thought, as a `reasoning.encrypted` `reasoning_details` entry.
    pub fn reasoning_redacted(&self, out: &mut BytesMut, data: &str) {
        self.reasoning_detail(out, br#""type":"reasoning.encrypted","data":"#, data);
    }

    fn reasoning_detail(&self, out: &mut BytesMut, head: &[u8], value: &str) {
        self.open(out);
        out.extend_from_slice(br#""reasoning_details":[{"#);
        out.extend_from_slice(head);
        push_json_str_buf(out, value);
        out.extend_from_slice(br#","format":"#);
        push_json_str_buf(out, DETAIL_FORMAT);
        out.extend_from_slice(b"}]");
        Self::close(out);
    }

    /// The first fragment of tool call `index`: id, type, name and empty arguments.
    pub fn tool_call_start(&self, out: &mut BytesMut, index: u32, id: &str, name: &str) {
        self.open(out);
        out.extend_from_slice(br#""tool_calls":[{"index":"#);
        out.extend_from_slice(itoa(u64::from(index)).as_bytes());
        out.extend_from_slice(br#","id":"#);
        push_json_str_buf(out, id);
        out.extend_from_slice(br#","type":"function","function":{"name":"#);
        push_json_str_buf(out, name);
        out.extend_from_slice(br#","arguments":""}}]"#);
        Self::close(out);
    }

    /// A further arguments fragment of tool call `index`.
    pub fn tool_call_args(&self, out: &mut BytesMut, index: u32, fragment: &str) {
        self.open(out);
        out.extend_from_slice(br#""tool_calls":[{"index":"#);
        out.extend_from_slice(itoa(u64::from(index)).as_bytes());
        out.extend_from_slice(br#","function":{"arguments":"#);
        push_json_str_buf(out, fragment);
        out.extend_from_slice(b"}}]");
        Self::close(out);
    }

    /// A whole tool call in one fragment: index, id, type, name and complete arguments
    /// (for providers that deliver calls whole, like Gemini).
    pub fn tool_call_whole(
        &self,
        out: &mut BytesMut,
        index: u32,
        id: &str,
        name: &str,
        arguments: &str,
    ) {
        self.open(out);
        out.extend_from_slice(br#""tool_calls":[{"index":"#);
        out.extend_from_slice(itoa(u64::from(index)).as_bytes());
        out.extend_from_slice(br#","id":"#);
        push_json_str_buf(out, id);
        out.extend_from_slice(br#","type":"function","function":{"name":"#);
        push_json_str_buf(out, name);
        out.extend_from_slice(br#","arguments":"#);
        push_json_str_buf(out, arguments);
        out.extend_from_slice(b"}}]");
        Self::close(out);
    }

    /// The chunk carrying `finish_reason`, with an empty delta.
    pub fn finish(&self, out: &mut BytesMut, reason: FinishReason) {
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(
            br#","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":""#,
        );
        out.extend_from_slice(reason.as_str().as_bytes());
        out.extend_from_slice(b"\"}]}\n\n");
    }

    /// The end of a completed stream: the finish chunk, the usage chunk when the client asked
    /// for it (`usage` is `Some`), and `[DONE]`.
    pub fn end(&self, out: &mut BytesMut, reason: FinishReason, usage: Option<Usage>) {
        self.finish(out, reason);
        if let Some(usage) = usage {
            self.usage(out, usage);
        }
        done(out);
    }

    /// The usage chunk (`"choices":[]`), sent when the client asked for `include_usage`.
    pub fn usage(&self, out: &mut BytesMut, usage: Usage) {
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(br#","choices":[],"usage":"#);
        let mut w = out.writer();
        // Serializing integers into a buffer cannot fail.
        let _ = serde_json::to_writer(&mut w, &usage.to_openai());
        let out = w.into_inner();
        out.extend_from_slice(b"}\n\n");
    }
}

impl ChunkSink for OpenAiChunks {
    fn set_model(&mut self, model: &str) {
        OpenAiChunks::set_model(self, model);
    }
    fn role(&mut self, out: &mut BytesMut) {
        OpenAiChunks::role(self, out);
    }
    fn content(&mut self, out: &mut BytesMut, text: &str) {
        OpenAiChunks::content(self, out, text);
    }
    fn reasoning(&mut self, out: &mut BytesMut, text: &str) {
        OpenAiChunks::reasoning(self, out, text);
    }
    fn reasoning_signature(&mut self, out: &mut BytesMut, signature: &str) {
        OpenAiChunks::reasoning_signature(self, out, signature);
    }
    fn reasoning_redacted(&mut self, out: &mut BytesMut, data: &str) {
        OpenAiChunks::reasoning_redacted(self, out, data);
    }
    fn tool_call_start(&mut self, out: &mut BytesMut, index: u32, id: &str, name: &str) {
        OpenAiChunks::tool_call_start(self, out, index, id, name);
    }
    fn tool_call_args(&mut self, out: &mut BytesMut, index: u32, fragment: &str) {
        OpenAiChunks::tool_call_args(self, out, index, fragment);
    }
    fn tool_call_whole(
        &mut self,
        out: &mut BytesMut,
        index: u32,
        id: &str,
        name: &str,
        args: &str,
    ) {
        OpenAiChunks::tool_call_whole(self, out, index, id, name, args);
    }
    fn end(&mut self, out: &mut BytesMut, reason: FinishReason, usage: Option<Usage>) {
        OpenAiChunks::end(self, out, reason, usage);
    }
}

/// The stream terminator.
pub fn done(out: &mut BytesMut) {
    out.extend_from_slice(b"data: [DONE]\n\n");
}

/// A non-streaming `chat.completion`.
#[derive(Debug, Serialize)]
pub struct ChatCompletion<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: u64,
    pub model: &'a str,
    pub choices: [Choice<'a>; 1],
    pub usage: super::OpenAiUsage,
}

/// The single choice of a translated completion.
#[derive(Debug, Serialize)]
pub struct Choice<'a> {
    pub index: u32,
    pub message: AssistantMessage<'a>,
    pub logprobs: Option<()>,
    pub finish_reason: &'static str,
}

/// The assistant message of a completion.
#[derive(Debug, Serialize)]
pub struct AssistantMessage<'a> {
    pub role: &'static str,
    pub content: Option<String>,
    pub refusal: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Signed reasoning blocks (OpenRouter's `reasoning_details`), for the client to send back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasoning_details: Vec<ReasoningDetail<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<OutToolCall<'a>>,
}

/// One entry of `reasoning_details`: `reasoning.text` (text and signature) or
/// `reasoning.encrypted` (redacted thinking).
#[derive(Debug, Serialize)]
pub struct ReasoningDetail<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a str>,
    pub format: &'static str,
    pub index: usize,
}

impl<'a> ReasoningDetail<'a> {
    /// The detail of thought number `index`.
    pub fn of((index, t): (usize, &'a Thought<'_>)) -> Self {
        let (kind, text, signature, data) = match t {
            Thought::Text { text, signature } => (
                "reasoning.text",
                Some(text.as_ref()),
                signature.as_deref(),
                None,
            ),
            Thought::Redacted { data } => ("reasoning.encrypted", None, None, Some(data.as_ref())),
        };
        ReasoningDetail {
            kind,
            text,
            signature,
            data,
            format: DETAIL_FORMAT,
            index,
        }
    }
}

/// A tool call in a completion; `arguments` is a JSON string.
#[derive(Debug, Serialize)]
pub struct OutToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: OutFunction<'a>,
}

/// Name and arguments of a tool call.
#[derive(Debug, Serialize)]
pub struct OutFunction<'a> {
    pub name: &'a str,
    pub arguments: String,
}

impl<'a> ChatCompletion<'a> {
    /// Builds a completion with one choice.
    pub fn new(
        id: &'a str,
        created: u64,
        model: &'a str,
        message: AssistantMessage<'a>,
        finish: FinishReason,
        usage: Usage,
    ) -> Self {
        ChatCompletion {
            id,
            object: "chat.completion",
            created,
            model,
            choices: [Choice {
                index: 0,
                message,
                logprobs: None,
                finish_reason: finish.as_str(),
            }],
            usage: usage.to_openai(),
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn push_json_str_buf(out: &mut BytesMut, s: &str) {
    let mut w = out.writer();
    let _ = serde_json::to_writer(&mut w, s);
}

fn itoa(n: u64) -> String {
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(buf: &[u8]) -> Vec<serde_json::Value> {
        let text = std::str::from_utf8(buf).unwrap();
        text.split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| e.strip_prefix("data: ").unwrap())
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    /// Every chunk kind is valid JSON with the constant fields and the OpenAI shape.
    #[test]
    fn chunks_are_valid_openai() {
        let w = OpenAiChunks::new("chatcmpl-1", 42, "claude \"x\"");
        let mut out = BytesMut::new();
        w.role(&mut out);
        w.content(&mut out, "héllo \"q\"\n✓");
        w.tool_call_start(&mut out, 1, "toolu_1", "get_weather");
        w.tool_call_args(&mut out, 1, "{\"city\":");
        w.reasoning(&mut out, "hmm");
        w.finish(&mut out, FinishReason::ToolCalls);
        w.usage(
            &mut out,
            Usage {
                prompt_tokens: 10,
                completion_tokens: 3,
                cached_tokens: 4,
                ..Usage::default()
            },
        );
        done(&mut out);
        assert!(out.ends_with(b"data: [DONE]\n\n"));
        let ev = events(&out);
        assert_eq!(ev.len(), 7);
        for e in &ev {
            assert_eq!(e["id"], "chatcmpl-1");
            assert_eq!(e["object"], "chat.completion.chunk");
            assert_eq!(e["created"], 42);
            assert_eq!(e["model"], "claude \"x\"");
        }
        assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(ev[1]["choices"][0]["delta"]["content"], "héllo \"q\"\n✓");
        let tc = &ev[2]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(
            (
                tc["index"].as_u64(),
                tc["id"].as_str(),
                tc["function"]["name"].as_str(),
                tc["function"]["arguments"].as_str()
            ),
            (Some(1), Some("toolu_1"), Some("get_weather"), Some(""))
        );
        assert_eq!(
            ev[3]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            "{\"city\":"
        );
        assert_eq!(ev[4]["choices"][0]["delta"]["reasoning_content"], "hmm");
        assert_eq!(ev[5]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(ev[5]["choices"][0]["delta"], serde_json::json!({}));
        assert_eq!(ev[6]["choices"], serde_json::json!([]));
        assert_eq!(ev[6]["usage"]["total_tokens"], 13);
        assert_eq!(ev[6]["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    }
}
