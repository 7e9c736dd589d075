//! `openai` kind: OpenAI and every OpenAI-compatible API, passed through with minimal work.
//!
//! The request body is forwarded byte for byte except two splices: `model` becomes the
//! target's model, and streams ask for `stream_options.include_usage` so the gateway can
//! account tokens (the usage chunk is dropped again if the client did not ask for it).
//! Responses are forwarded unchanged; the gateway only reads `usage` on the way.

use super::sse_driver::{SseMachine, SseTranslator};
use super::{DecodedResponse, ModelFacts, TranslateCtx, UpstreamRequest, malformed_stream};
use crate::error::GatewayError;
use crate::providers::settings::ProviderSettings;
use crate::stream::json_scan as scan;
use crate::translate::Usage;
use crate::translate::reasoning::Effort;
use crate::translate::request::ChatRequest;
use crate::translate::response::done;
use bytes::{Bytes, BytesMut};
use pingora::http::RequestHeader;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Builds the pass-through request: the client's body with `model` (and, for streams,
/// `stream_options`) spliced.
pub fn build_request(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    raw: &[u8],
    model: &str,
    facts: ModelFacts<'_>,
) -> Result<UpstreamRequest, GatewayError> {
    let path = format!("{}/chat/completions", provider.endpoint.path_prefix);
    let mut splices: Vec<(usize, usize, Vec<u8>)> = Vec::with_capacity(2);
    if model != req.model() {
        let span = req.model_span(raw).ok_or_else(GatewayError::internal)?;
        let mut quoted = Vec::with_capacity(model.len() + 2);
        crate::translate::response::push_json_str(&mut quoted, model);
        splices.push((span.start, span.end, quoted));
    }
    if req.is_stream() && !req.include_usage() {
        match req.stream_options_span(raw) {
            Some(span) => {
                let mut opts: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&raw[span.start..span.end]).unwrap_or_default();
                opts.insert("include_usage".into(), serde_json::Value::Bool(true));
                let bytes = serde_json::to_vec(&opts).map_err(|_| GatewayError::internal())?;
                splices.push((span.start, span.end, bytes));
            }
            None => {
                let open = raw
                    .iter()
                    .position(|b| *b == b'{')
                    .ok_or_else(GatewayError::internal)?;
                splices.push((
                    open + 1,
                    open + 1,
                    br#""stream_options":{"include_usage":true},"#.to_vec(),
                ));
            }
        }
    }
    // `models`, `provider` and `reasoning` are not OpenAI's; it rejects unknown parameters.
    // OpenRouter's `reasoning` (kept for OpenRouter itself) becomes `reasoning_effort` when the
    // client did not send one and the catalog says the model reasons.
    let openrouter = provider.preset == Some("openrouter");
    let effort = effort_for_openai(req, facts).filter(|_| !openrouter);
    let gateway_only = req.gateway_only_spans(raw, openrouter);
    if !gateway_only.is_empty() {
        match crate::translate::routing_params::member_removals(raw, &gateway_only) {
            Some(cuts) => splices.extend(cuts.into_iter().map(|c| (c.start, c.end, Vec::new()))),
            None => {
                let clean = without_gateway_members(raw, effort, openrouter)?;
                let clean_req = ChatRequest::parse(&clean)?;
                return build_request(provider, &clean_req, &clean, model, facts);
            }
        }
    }
    if let Some(effort) = effort {
        let open = raw
            .iter()
            .position(|b| *b == b'{')
            .ok_or_else(GatewayError::internal)?;
        let member = format!("\"reasoning_effort\":\"{}\",", effort.as_str());
        splices.push((open + 1, open + 1, member.into_bytes()));
    }
    splices.sort_by_key(|s| (s.0, s.1));
    let extra: usize = splices.iter().map(|s| s.2.len()).sum();
    let mut body = Vec::with_capacity(raw.len() + extra);
    let mut at = 0;
    for (start, end, bytes) in splices {
        body.extend_from_slice(&raw[at..start]);
        body.extend_from_slice(&bytes);
        at = end;
    }
    body.extend_from_slice(&raw[at..]);
    if provider.preset != Some("openrouter") {
        if let Some(clean) = without_thoughts(&body)? {
            body = clean;
        }
    }
    if provider.preset == Some("mistral") {
        if let Some(fixed) = super::presets::mistral_body(&body)? {
            body = fixed;
        }
    }
    Ok(UpstreamRequest::new(path, Bytes::from(body)))
}

/// The `reasoning_effort` to add for OpenRouter's `reasoning` object (never when the client
/// sent `reasoning_effort` itself).
fn effort_for_openai(req: &ChatRequest<'_>, facts: ModelFacts<'_>) -> Option<Effort> {
    if !req.has_reasoning_object() || req.has_reasoning_effort() || !facts.has("reasoning") {
        return None;
    }
    req.reasoning().map(|ask| ask.effort())
}

/// The body without the gateway's own members, re-serialised (a key spelled with escapes),
/// with `effort` added as `reasoning_effort`.
fn without_gateway_members(
    raw: &[u8],
    effort: Option<Effort>,
    keep_reasoning: bool,
) -> Result<Vec<u8>, GatewayError> {
    let mut v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(raw).map_err(|_| GatewayError::internal())?;
    v.remove("models");
    v.remove("provider");
    if !keep_reasoning {
        v.remove("reasoning");
    }
    if let Some(e) = effort {
        v.insert("reasoning_effort".into(), e.as_str().into());
    }
    serde_json::to_vec(&v).map_err(|_| GatewayError::internal())
}

/// The body without the signed thinking blocks assistant turns carry back
/// (`reasoning_details`, `thinking_blocks`) and without prompt-cache breakpoints
/// (`cache_control` on messages, content parts and tools): OpenRouter takes them, OpenAI and
/// most compatible servers reject unknown fields (OpenAI caches prefixes by itself). `None` when there are none (the common case costs one
/// scan).
fn without_thoughts(body: &[u8]) -> Result<Option<Vec<u8>>, GatewayError> {
    let has = |key: &[u8]| memchr::memmem::find(body, key).is_some();
    if !has(b"\"reasoning_details\"") && !has(b"\"thinking_blocks\"") && !has(b"\"cache_control\"")
    {
        return Ok(None);
    }
    let mut v: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| GatewayError::internal())?;
    let remove = |o: &mut serde_json::Map<String, serde_json::Value>| {
        o.remove("reasoning_details");
        o.remove("thinking_blocks");
        o.remove("cache_control");
    };
    for key in ["messages", "tools"] {
        for item in v
            .get_mut(key)
            .and_then(|m| m.as_array_mut())
            .into_iter()
            .flatten()
        {
            let Some(o) = item.as_object_mut() else {
                continue;
            };
            remove(o);
            let parts = o.get_mut("content").and_then(|c| c.as_array_mut());
            for p in parts
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_object_mut())
            {
                p.remove("cache_control");
            }
        }
    }
    serde_json::to_vec(&v)
        .map(Some)
        .map_err(|_| GatewayError::internal())
}

/// `Authorization: Bearer <key>` when a key is configured.
pub fn add_headers(provider: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
    if !provider.api_key.is_empty() {
        h.insert_header(
            "authorization",
            format!("Bearer {}", provider.api_key.expose()),
        )?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct UsageWire {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetailsWire>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetailsWire>,
}

#[derive(Deserialize)]
struct PromptDetailsWire {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetailsWire {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl UsageWire {
    fn to_usage(&self) -> Usage {
        let p = self.prompt_tokens_details.as_ref();
        Usage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            cached_tokens: p.and_then(|d| d.cached_tokens).unwrap_or(0),
            cache_write_tokens: p.and_then(|d| d.cache_write_tokens).unwrap_or(0),
            reasoning_tokens: self
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}

#[derive(Deserialize)]
struct CompletionProbe<'a> {
    #[serde(default)]
    usage: Option<UsageWire>,
    #[serde(borrow)]
    choices: &'a RawValue,
}

/// Checks the completion is well-formed, reads its usage, and forwards it unchanged.
pub fn decode_response(body: &[u8]) -> Result<DecodedResponse, GatewayError> {
    let probe: CompletionProbe<'_> =
        serde_json::from_slice(body).map_err(|e| malformed_response(&e))?;
    if !probe.choices.get().starts_with('[') {
        return Err(GatewayError::new(
            502,
            crate::error::ErrorKind::UpstreamFailure,
            "upstream response has no choices array",
        ));
    }
    Ok(DecodedResponse {
        body: Bytes::copy_from_slice(body),
        usage: probe.usage.map(|u| u.to_usage()).unwrap_or_default(),
    })
}

pub(crate) fn malformed_response(e: &serde_json::Error) -> GatewayError {
    GatewayError::new(
        502,
        crate::error::ErrorKind::UpstreamFailure,
        format!("upstream returned an invalid chat completion: {e}"),
    )
}

#[derive(Deserialize)]
struct ErrorEnvelope<'a> {
    #[serde(borrow)]
    error: ErrorDetail<'a>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorDetail<'a> {
    Object {
        #[serde(borrow, default)]
        message: Option<Cow<'a, str>>,
    },
    Text(#[serde(borrow)] Cow<'a, str>),
}

impl ErrorDetail<'_> {
    fn into_message(self) -> Option<String> {
        match self {
            ErrorDetail::Object { message } => message.map(Cow::into_owned),
            ErrorDetail::Text(t) => Some(t.into_owned()),
        }
    }
}

/// The `error.message` of an OpenAI-style error body (or a short raw excerpt).
pub fn error_message(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<ErrorEnvelope<'_>>(body) {
        Ok(env) => env.error.into_message(),
        Err(_) => excerpt(body),
    }
}

/// First 200 characters of a non-JSON error body.
pub(crate) fn excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(200).collect())
}

#[derive(Deserialize)]
struct ChunkProbe<'a> {
    #[serde(default)]
    usage: Option<UsageWire>,
    #[serde(borrow, default)]
    choices: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// Pass-through of an OpenAI-format stream: events are re-framed unchanged, usage is read,
/// in-band errors and truncation are detected, and `[DONE]` is guaranteed at a clean end.
pub type PassthroughStream = SseTranslator<Passthrough>;

/// The pass-through state machine.
#[derive(Debug)]
pub struct Passthrough {
    provider: String,
    /// Drop chunks with `"choices":[]` and no usage (Azure's leading prompt-filter chunk,
    /// which crashes clients that index `choices[0]`).
    strip_empty_choices: bool,
    client_wants_usage: bool,
    usage: Usage,
    saw_finish: bool,
    saw_output: bool,
    done: bool,
}

impl Passthrough {
    /// The usage chunk is forwarded only if the client asked for it (it is always read).
    pub fn stream(ctx: &TranslateCtx<'_>) -> PassthroughStream {
        SseTranslator::new(Passthrough {
            provider: ctx.provider.to_string(),
            strip_empty_choices: false,
            client_wants_usage: ctx.include_usage,
            usage: Usage::default(),
            saw_finish: false,
            saw_output: false,
            done: false,
        })
    }
}

impl Passthrough {
    /// Like [`Passthrough::stream`], also dropping Azure's choice-less filter chunks.
    pub fn azure_stream(ctx: &TranslateCtx<'_>) -> PassthroughStream {
        let mut t = Self::stream(ctx);
        t.machine_mut().strip_empty_choices = true;
        t
    }
}

impl SseMachine for Passthrough {
    fn event(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        self.pass(data, out)
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// Some compatible servers omit `[DONE]`; a finish chunk proves completion.
    fn complete_at_eof(&mut self, out: &mut BytesMut) -> bool {
        if self.saw_finish {
            done(out);
            self.done = true;
        }
        self.saw_finish
    }

    fn provider(&self) -> &str {
        &self.provider
    }

    fn has_output(&self) -> bool {
        self.saw_output
    }

    fn usage(&self) -> Usage {
        self.usage
    }
}

impl Passthrough {
    /// Handles one `data:` payload.
    fn pass(&mut self, data: &str, out: &mut BytesMut) -> Result<(), GatewayError> {
        let trimmed = data.trim();
        if trimmed == "[DONE]" {
            done(out);
            self.done = true;
            return Ok(());
        }
        if trimmed.is_empty() {
            return Ok(());
        }
        let mut forward = true;
        let bytes = data.as_bytes();
        // Member probes (see `scan`): most chunks carry neither usage nor an error and skip the
        // full parse, whatever whitespace the upstream's JSON writer puts between tokens.
        if scan::value_starts(bytes, b"\"usage\"", b'{') || scan::has_key(bytes, b"\"error\"") {
            let probe: ChunkProbe<'_> = serde_json::from_str(data).map_err(malformed_stream)?;
            if let Some(err) = probe.error {
                let message = serde_json::from_str::<ErrorDetail<'_>>(err.get())
                    .ok()
                    .and_then(ErrorDetail::into_message);
                return Err(
                    super::upstream_error(&self.provider, 502, message.as_deref(), None)
                        .with_code("upstream_stream_error"),
                );
            }
            if let Some(u) = probe.usage {
                self.usage = u.to_usage();
                let empty_choices = probe.choices.is_none_or(|c| empty_array(c.get()));
                forward = !empty_choices || self.client_wants_usage;
            }
        } else if self.strip_empty_choices && scan::array_starts(bytes, b"\"choices\"", None) {
            // No usage here (checked above): a prompt-filter annotation chunk.
            let probe: ChunkProbe<'_> = serde_json::from_str(data).map_err(malformed_stream)?;
            if probe.choices.is_none_or(|c| empty_array(c.get())) {
                return Ok(());
            }
        }
        if scan::value_starts(bytes, b"\"finish_reason\"", b'"') {
            self.saw_finish = true;
            self.saw_output = true;
        } else if !self.saw_output && carries_output(bytes) {
            self.saw_output = true;
        }
        if forward {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(data.as_bytes());
            out.extend_from_slice(b"\n\n");
        }
        Ok(())
    }
}

/// True when a chunk carries model output (text, reasoning, refusal or a tool call) rather
/// than only the role preamble (`"content": ""` or `null`).
fn carries_output(data: &[u8]) -> bool {
    scan::array_starts(data, b"\"tool_calls\"", Some(b'{'))
        || [
            &b"\"content\""[..],
            b"\"reasoning_content\"",
            b"\"reasoning\"",
            b"\"refusal\"",
        ]
        .iter()
        .any(|key| scan::non_empty_string(data, key))
}

/// True for a raw JSON array with no elements, whatever its whitespace.
fn empty_array(raw: &str) -> bool {
    raw.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|inner| inner.trim().is_empty())
}

/// The OpenAI (and OpenAI-compatible) kind's translators.
pub struct OpenAi;

impl crate::providers::provider::Provider for OpenAi {
    fn build_request(
        &self,
        p: &ProviderSettings,
        req: &crate::translate::request::ChatRequest<'_>,
        raw: &[u8],
        model: &str,
        facts: crate::providers::ModelFacts<'_>,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        build_request(p, req, raw, model, facts)
    }

    fn add_headers(&self, p: &ProviderSettings, h: &mut RequestHeader) -> pingora::Result<()> {
        add_headers(p, h)
    }

    fn decode_response(
        &self,
        body: &[u8],
        _ctx: &crate::providers::TranslateCtx<'_>,
        _model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        decode_response(body)
    }

    fn stream(
        &self,
        ctx: &crate::providers::TranslateCtx<'_>,
        _model: &str,
    ) -> crate::providers::StreamTranslator {
        crate::providers::StreamTranslator::OpenAi(Passthrough::stream(ctx))
    }

    fn error_message(&self, body: &[u8], _head: &pingora::http::ResponseHeader) -> Option<String> {
        error_message(body)
    }

    fn build_embeddings(
        &self,
        p: &ProviderSettings,
        _req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        raw: &[u8],
        model: &str,
    ) -> Result<crate::providers::UpstreamRequest, crate::error::GatewayError> {
        crate::providers::embeddings::passthrough(
            format!("{}/embeddings", p.endpoint.path_prefix),
            raw,
            model,
        )
    }

    fn decode_embeddings(
        &self,
        body: &[u8],
        _req: &crate::translate::embeddings::EmbeddingsRequest<'_>,
        _model: &str,
    ) -> Result<crate::providers::DecodedResponse, crate::error::GatewayError> {
        crate::providers::embeddings::decode_openai(body)
    }
}

#[cfg(test)]
mod tests;
