//! Gemini API requests (`/v1beta/models/{model}:{method}`): path routing, validation with the
//! real API's messages into a [`Conversation`], thought-signature checks, and Google error bodies.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

mod config;
mod render;
pub mod serve;

use crate::error::ApiError;
use crate::scenario::Conversation;

/// Which Gemini method a path calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Generate,
    Stream,
    Embed,
}

/// `(model, method)` of a `…/models/{model}:{method}` path; the model is percent-decoded.
pub fn route(path: &str) -> Option<(String, Method)> {
    let (_, rest) = path.rsplit_once("/models/")?;
    let (model, method) = rest.rsplit_once(':')?;
    let method = match method {
        "generateContent" => Method::Generate,
        "streamGenerateContent" => Method::Stream,
        "batchEmbedContents" => Method::Embed,
        _ => return None,
    };
    Some((percent_decode(model)?, method))
}

/// The model of a Gemini path, for the request log.
pub fn path_model(path: &str) -> Option<String> {
    route(path).map(|(m, _)| m)
}

fn percent_decode(s: &str) -> Option<String> {
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

/// Takes the Gemini-only `block=REASON` item (answer with a blocked prompt) out of a directive
/// string, returning it and the rest for [`crate::directives::Directives::parse`].
pub fn take_block(spec: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(spec) = spec else {
        return (None, None);
    };
    let mut block = None;
    let rest: Vec<&str> = spec
        .split(';')
        .filter(|item| match item.trim().strip_prefix("block=") {
            Some(reason) => {
                block = Some(reason.trim().to_owned());
                false
            }
            None => true,
        })
        .collect();
    (block, Some(rest.join(";")))
}

/// The thought signature the emulator attaches to the first function call of call `id`:
/// standard base64 with `+` and `/` in it, so it only survives a careful round trip.
pub fn signature(id: u64) -> String {
    let mut bytes = format!("emu-sig/{id}/").into_bytes();
    bytes.extend_from_slice(&[0xfb, 0xff, 0xfe, 0x3e]);
    STANDARD.encode(bytes)
}

fn valid_signature(s: &str) -> bool {
    STANDARD
        .decode(s)
        .is_ok_and(|b| b.starts_with(b"emu-sig/") && b.ends_with(&[0xfb, 0xff, 0xfe, 0x3e]))
}

pub(crate) fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

fn unknown(name: &str, at: &str) -> ApiError {
    bad(format!(
        "Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."
    ))
}

pub(crate) fn check_keys(
    obj: &serde_json::Map<String, Value>,
    known: &[&str],
    at: &str,
) -> Result<(), ApiError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(unknown(k, at)),
        None => Ok(()),
    }
}

const TOP_KEYS: &[&str] = &[
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "safetySettings",
    "cachedContent",
    "generationConfig",
    "labels",
];
const PART_KEYS: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "thought",
    "thoughtSignature",
    "executableCode",
    "codeExecutionResult",
    "videoMetadata",
    "mediaResolution",
];
/// Function-call bookkeeping of one content, for the turn rules.
#[derive(Default)]
struct Turn {
    model: bool,
    calls: usize,
    responses: usize,
    has_text: bool,
    first_response: Option<String>,
}

/// Validate a `generateContent` body the way the real API does. With `thinking`, function
/// calls in the history must carry the signature the emulator issued.
pub fn parse(body: &Value, thinking: bool) -> Result<Conversation, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("Invalid JSON payload received. Expected an object."))?;
    check_keys(obj, TOP_KEYS, "")?;
    let mut conv = Conversation::default();
    let contents = match obj.get("contents") {
        Some(Value::Array(c)) if !c.is_empty() => c,
        _ => {
            return Err(bad(
                "* GenerateContentRequest.contents: contents is not specified\n",
            ));
        }
    };
    if let Some(si) = obj.get("systemInstruction") {
        for p in si
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            conv.prompt_chars += p
                .get("text")
                .and_then(Value::as_str)
                .map_or(0, |t| t.chars().count());
        }
    }
    let mut turns: Vec<Turn> = Vec::with_capacity(contents.len());
    for (i, c) in contents.iter().enumerate() {
        turns.push(scan_content(i, c, thinking, &mut conv)?);
    }
    check_turns(&turns)?;
    if let Some(t) = turns.last().filter(|t| t.responses > 0) {
        conv.tool_result = t.first_response.clone();
    }
    conv.tools = config::tools(obj.get("tools"))?;
    conv.tool_choice = config::tool_choice(obj.get("toolConfig"))?;
    if let Some(g) = obj.get("generationConfig") {
        config::generation(g, &mut conv)?;
    }
    Ok(conv)
}

fn scan_content(
    i: usize,
    c: &Value,
    thinking: bool,
    conv: &mut Conversation,
) -> Result<Turn, ApiError> {
    let at = format!("contents[{i}]");
    let model = match c.get("role").and_then(Value::as_str) {
        None | Some("user") => false,
        Some("model") => true,
        Some(_) => return Err(bad("Please use a valid role: user, model.")),
    };
    let parts = match c.get("parts") {
        Some(Value::Array(p)) if !p.is_empty() => p,
        _ => {
            return Err(bad(format!(
                "* GenerateContentRequest.{at}.parts: contents.parts must not be empty.\n"
            )));
        }
    };
    let mut turn = Turn {
        model,
        ..Turn::default()
    };
    for (j, p) in parts.iter().enumerate() {
        let pat = format!("{at}.parts[{j}]");
        let obj = p
            .as_object()
            .ok_or_else(|| bad(format!("Invalid value at '{pat}'")))?;
        check_keys(obj, PART_KEYS, &pat)?;
        if let Some(t) = obj.get("text").and_then(Value::as_str) {
            conv.prompt_chars += t.chars().count();
            turn.has_text = true;
        } else if let Some(d) = obj.get("inlineData") {
            let mime = d
                .get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let data = d.get("data").and_then(Value::as_str).unwrap_or_default();
            if mime.is_empty() || STANDARD.decode(data).is_err() {
                return Err(bad(format!(
                    "Invalid value at '{pat}.inline_data' (data/mime_type): invalid inline data"
                )));
            }
            conv.images += usize::from(mime.starts_with("image/"));
        } else if let Some(d) = obj.get("fileData") {
            if d.get("fileUri")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(bad(format!(
                    "* GenerateContentRequest.{pat}.file_data.file_uri: required"
                )));
            }
            let mime = d
                .get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or("image/jpeg");
            conv.images += usize::from(mime.starts_with("image/"));
        } else if let Some(call) = obj.get("functionCall") {
            let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                return Err(bad(format!(
                    "* GenerateContentRequest.{pat}.function_call.name: Name cannot be empty.\n"
                )));
            }
            conv.prompt_chars += call
                .get("args")
                .map_or(0, |a| a.to_string().chars().count());
            if thinking && turn.calls == 0 {
                match obj.get("thoughtSignature").and_then(Value::as_str) {
                    None => {
                        return Err(bad(format!(
                            "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{name}` , position {}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                            j + 1
                        )));
                    }
                    Some(s) if !valid_signature(s) => {
                        return Err(bad(format!("Corrupted thought signature at '{pat}'.")));
                    }
                    Some(_) => {}
                }
            }
            turn.calls += 1;
        } else if let Some(r) = obj.get("functionResponse") {
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                return Err(bad(format!(
                    "* GenerateContentRequest.{pat}.function_response.name: Name cannot be empty.\n"
                )));
            }
            let response = r.get("response").filter(|v| v.is_object()).ok_or_else(|| {
                bad(format!("Invalid value at '{pat}.function_response.response' (type.googleapis.com/google.protobuf.Struct)"))
            })?;
            let text = match response.get("output") {
                Some(Value::String(s)) => s.clone(),
                _ => response.to_string(),
            };
            conv.prompt_chars += text.chars().count();
            turn.first_response.get_or_insert(text);
            turn.responses += 1;
        }
    }
    Ok(turn)
}

/// Function calls follow a user or function-response turn; responses answer every call of
/// the turn right before them.
fn check_turns(turns: &[Turn]) -> Result<(), ApiError> {
    for (i, t) in turns.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| turns.get(p));
        if t.calls > 0 && !(t.model && prev.is_none_or(|p| !p.model)) {
            return Err(bad(
                "Please ensure that function call turn comes immediately after a user turn or after a function response turn.",
            ));
        }
        if t.responses > 0 && prev.is_none_or(|p| p.calls != t.responses) {
            return Err(bad(
                "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
            ));
        }
    }
    Ok(())
}

/// The canonical Google `status` of an HTTP status.
pub fn google_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500.. => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

/// `{"error":{"code","message","status"}}` (+ a RetryInfo detail for 429).
pub fn error_body(e: &ApiError, retry_after: Option<u64>) -> Vec<u8> {
    let mut error = json!({
        "code": e.status,
        "message": e.message,
        "status": e.kind.unwrap_or_else(|| google_status(e.status)),
    });
    if let (429, Some(secs)) = (e.status, retry_after) {
        error["details"] = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{secs}s")}]);
    }
    serde_json::to_vec(&json!({ "error": error })).unwrap_or_default()
}

/// The error a `status=CODE` directive answers with.
pub fn status_error(status: u16) -> ApiError {
    let msg = match status {
        400 => "Request contains an invalid argument.",
        403 => "The caller does not have permission",
        404 => "models/emulated is not found for API version v1beta.",
        429 => "Resource has been exhausted (e.g. check quota).",
        500 => {
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        }
        503 => "The model is overloaded. Please try again later.",
        504 => "Deadline expired before operation could complete.",
        _ => "Emulated upstream error",
    };
    ApiError::new(
        status,
        format!("{msg} (emulated by switchyard-emulator, status={status})"),
    )
}

/// The 403 for a request without `x-goog-api-key`.
pub fn missing_key() -> ApiError {
    ApiError::new(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API. (switchyard-emulator)",
    )
}

#[cfg(test)]
mod tests;
