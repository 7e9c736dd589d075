//! Bedrock Runtime: `POST /model/{id}/converse`, `/converse-stream` and `/invoke`
//! (embeddings). Every request's SigV4 signature is verified ([`sigv4`]); Converse bodies
//! are validated with the real API's messages into a [`Conversation`]; errors are AWS rest-json
//! (`x-amzn-errortype` header, `{"message"}` body). Directives come from the URL-decoded model
//! id (`model#k=v`) and the `x-emulator` header.

use std::time::Duration;

use bytes::Bytes;
use pingora::protocols::http::ServerSession;
use serde_json::Value;

mod embed;
mod messages;
mod render;
mod sigv4;

use crate::anthropic;
use crate::delivery::{self, Head, Outcome, StreamFaults};
use crate::directives::{DEFAULT_HANG_MS, Directives, FailMode, split_model};
use crate::error::ApiError;
use crate::scenario::{self, Conversation, Style, ToolChoice, ToolSpec, next_id};
use crate::server::EmulatorApp;
use render::Ctx;

/// A Bedrock Runtime operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Converse,
    ConverseStream,
    Invoke,
}

/// `…/model/{id}/{op}` → the operation and the still-encoded model id.
pub fn route(path: &str) -> Option<(Op, &str)> {
    let at = path.find("/model/")?;
    let rest = &path[at + "/model/".len()..];
    let (id, op) = rest.rsplit_once('/')?;
    let op = match op {
        "converse" => Op::Converse,
        "converse-stream" => Op::ConverseStream,
        "invoke" => Op::Invoke,
        _ => return None,
    };
    (!id.is_empty() && !id.contains('/')).then_some((op, id))
}

/// `%XX`-decodes a path segment.
pub fn decode_segment(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The decoded model id of a Bedrock path, for the recorder.
pub fn recorded_model(path: &str) -> Option<String> {
    route(path).and_then(|(_, id)| decode_segment(id))
}

pub(crate) fn validation(msg: impl Into<String>) -> ApiError {
    let mut e = ApiError::bad_request(msg);
    e.kind = Some("ValidationException");
    e
}

/// The exception AWS names for an HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 => "ValidationException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        _ => "InternalServerException",
    }
}

/// The error a `status=CODE` directive answers with.
pub fn status_error(status: u16) -> ApiError {
    let msg = match status {
        400 => "Malformed input request, please reformat your input and try again.",
        403 => "You don't have access to the model with the specified model ID.",
        404 => "The provided model identifier is invalid.",
        429 => "Too many requests, please wait before trying again.",
        503 => "Bedrock is unable to process your request.",
        _ => "The server encountered an internal error while processing the request.",
    };
    ApiError::new(
        status,
        format!("{msg} (emulated by switchyard-emulator, status={status})"),
    )
}

/// `{"message": …}` (AWS rest-json; the type travels in `x-amzn-errortype`).
pub fn error_body(e: &ApiError) -> Bytes {
    Bytes::from(
        serde_json::to_vec(&serde_json::json!({ "message": e.message })).unwrap_or_default(),
    )
}

impl EmulatorApp {
    /// Serves one Bedrock Runtime request.
    pub(crate) async fn bedrock(
        &self,
        s: &mut ServerSession,
        op: Op,
        encoded_id: &str,
        body: &[u8],
    ) -> Outcome {
        let mut head = Head::json(400);
        head.headers
            .push(("x-amzn-requestid", format!("emu-{}", next_id())));
        if let Err(e) = sigv4::verify(s.req_header(), body) {
            return fail(s, head, &e).await;
        }
        let Some(model_full) = decode_segment(encoded_id) else {
            return fail(
                s,
                head,
                &validation("The model identifier is not validly encoded."),
            )
            .await;
        };
        let (model, spec) = split_model(&model_full);
        let header_spec = s
            .req_header()
            .headers
            .get("x-emulator")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let d = match Directives::parse(spec, header_spec.as_deref()) {
            Ok(d) => d,
            Err(msg) => return fail(s, head, &validation(msg)).await,
        };
        head.ttfb_ms = d.ttfb_ms;
        if let Some(secs) = d.retry_after {
            head.headers.push(("retry-after", secs.to_string()));
        }
        match self.decide_fault(&d, &model_full, header_spec.as_deref()) {
            None => {}
            Some(FailMode::Refuse) => return Outcome::Close,
            Some(FailMode::Timeout) => {
                tokio::time::sleep(Duration::from_millis(d.hang_ms.unwrap_or(DEFAULT_HANG_MS)))
                    .await;
                return Outcome::Close;
            }
            Some(FailMode::Status(status)) => return fail(s, head, &status_error(status)).await,
        }
        let json: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return fail(
                    s,
                    head,
                    &validation(format!("Malformed input request: {e}")),
                )
                .await;
            }
        };
        if op == Op::Invoke {
            return match embed::invoke(model, &json) {
                Ok(out) => {
                    head.status = 200;
                    delivery::send_full(s, &head, Bytes::from(out), d.drop_after).await
                }
                Err(e) => fail(s, head, &e).await,
            };
        }
        let conv = match parse(&json) {
            Ok(c) => c,
            Err(e) => return fail(s, head, &e).await,
        };
        let style = Style {
            tool_preamble: Some(anthropic::render::TOOL_PREAMBLE),
            thinking: d.thinking,
        };
        let plan = scenario::plan(&conv, &d, style);
        let ctx = Ctx {
            no_usage: d.no_usage,
        };
        head.status = 200;
        if op == Op::Converse {
            let out = render::render_json(&plan, &ctx);
            return delivery::send_full(s, &head, Bytes::from(out), d.drop_after).await;
        }
        head.content_type = "application/vnd.amazon.eventstream";
        let faults = StreamFaults {
            chunk_ms: d.chunk_ms,
            split: d.split,
            drop_after: d.drop_after,
            error_after: d.error_after,
            error_event: render::stream_error_frame(),
        };
        delivery::send_sse(s, &head, render::render_stream(&plan, &ctx), &faults).await
    }
}

async fn fail(s: &mut ServerSession, mut head: Head, e: &ApiError) -> Outcome {
    head.status = e.status;
    let kind = e.kind.unwrap_or_else(|| error_type(e.status));
    head.headers.push((
        "x-amzn-errortype",
        format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    ));
    delivery::send_full(s, &head, error_body(e), None).await
}

/// Top-level members of `ConverseRequest` besides the path's `modelId`.
const MEMBERS: [&str; 12] = [
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "outputConfig",
    "serviceTier",
];

/// Validates a Converse body the way the real API does.
pub fn parse(body: &Value) -> Result<Conversation, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| validation("Malformed input request: expected a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(validation(format!(
            "Malformed input request: extraneous key [{k}] is not permitted, please reformat your input and try again."
        )));
    }
    let mut conv = Conversation::default();
    for (j, b) in array(obj.get("system"), "system")?.iter().enumerate() {
        let t = b.get("text").and_then(Value::as_str);
        conv.prompt_chars += t
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| validation(format!("The text field in the SystemContentBlock object at system.{j} is blank. Add text to the text field, and try again.")))?
            .chars()
            .count();
    }
    let messages = array(obj.get("messages"), "messages")?;
    if messages.is_empty() {
        return Err(validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ));
    }
    let has_tool_config = obj.get("toolConfig").is_some_and(|v| !v.is_null());
    messages::scan(messages, has_tool_config, &mut conv)?;
    inference(obj.get("inferenceConfig"), &mut conv)?;
    tool_config(obj.get("toolConfig"), &mut conv)?;
    Ok(conv)
}

pub(crate) fn array<'a>(v: Option<&'a Value>, at: &str) -> Result<&'a [Value], ApiError> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(validation(format!(
            "1 validation error detected: Value at '{at}' failed to satisfy constraint: Member must be a list"
        ))),
    }
}

fn inference(v: Option<&Value>, conv: &mut Conversation) -> Result<(), ApiError> {
    let Some(cfg) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let constraint = |field: &str, val: &Value, rule: &str| {
        validation(format!(
            "1 validation error detected: Value '{val}' at 'inferenceConfig.{field}' failed to satisfy constraint: Member must have value {rule}"
        ))
    };
    if let Some(m) = cfg.get("maxTokens") {
        match m.as_u64() {
            Some(n) if n >= 1 => conv.max_tokens = Some(n),
            _ => return Err(constraint("maxTokens", m, "greater than or equal to 1")),
        }
    }
    for field in ["temperature", "topP"] {
        if let Some(t) = cfg.get(field) {
            match t.as_f64() {
                Some(x) if x < 0.0 => {
                    return Err(constraint(field, t, "greater than or equal to 0"));
                }
                Some(x) if x > 1.0 => return Err(constraint(field, t, "less than or equal to 1")),
                Some(_) => {}
                None => return Err(constraint(field, t, "of type number")),
            }
        }
    }
    for s in array(cfg.get("stopSequences"), "inferenceConfig.stopSequences")? {
        conv.stop.push(s.as_str().unwrap_or_default().to_owned());
    }
    Ok(())
}

fn tool_config(v: Option<&Value>, conv: &mut Conversation) -> Result<(), ApiError> {
    let Some(cfg) = v.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let tools = array(cfg.get("tools"), "toolConfig.tools")?;
    if tools.is_empty() {
        return Err(validation(
            "1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    for (i, t) in tools.iter().enumerate() {
        let spec = t.get("toolSpec").ok_or_else(|| {
            validation(format!(
                "The value at toolConfig.tools.{i} must have exactly one member (toolSpec)"
            ))
        })?;
        let name = spec.get("name").and_then(Value::as_str).unwrap_or_default();
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(validation(format!(
                "1 validation error detected: Value '{name}' at 'toolConfig.tools.{}.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
                i + 1
            )));
        }
        let schema = spec
            .get("inputSchema")
            .and_then(|s| s.get("json"))
            .ok_or_else(|| {
                validation(format!(
                    "toolConfig.tools.{i}.toolSpec.inputSchema.json is required"
                ))
            })?;
        conv.tools.push(ToolSpec {
            name: name.to_owned(),
            schema: schema.clone(),
        });
    }
    conv.tool_choice = match cfg.get("toolChoice") {
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(c) if c.get("auto").is_some() => ToolChoice::Auto,
        Some(c) if c.get("any").is_some() => ToolChoice::Any,
        Some(c) => match c
            .get("tool")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
        {
            Some(n) => ToolChoice::Named(n.to_owned()),
            None => {
                return Err(validation(
                    "The value at toolConfig.toolChoice must have exactly one member (auto, any or tool)",
                ));
            }
        },
    };
    Ok(())
}

#[cfg(test)]
mod tests;
