//! Converse `messages` validation: roles alternate starting with `user`, every content block
//! is a one-member union, tool blocks need a `toolConfig`, every `toolUse` is answered by a
//! `toolResult` in the next message.

use serde_json::Value;

use crate::bedrock::{array, validation};
use crate::error::ApiError;
use crate::scenario::Conversation;

const FORMATS: [&str; 4] = ["png", "jpeg", "gif", "webp"];
const KNOWN_BLOCKS: [&str; 14] = [
    "text",
    "image",
    "document",
    "video",
    "audio",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
    "citationsContent",
    "searchResult",
    "json",
    "s3Location",
];

#[derive(Default)]
struct Turn {
    assistant: bool,
    uses: Vec<String>,
    results: Vec<String>,
    first_result: Option<String>,
}

/// Scans `messages` into `conv` (prompt size, images, the last tool result).
pub fn scan(
    messages: &[Value],
    has_tool_config: bool,
    conv: &mut Conversation,
) -> Result<(), ApiError> {
    let mut turns: Vec<Turn> = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        let assistant = match role {
            "user" => false,
            "assistant" => true,
            other => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{other}' at 'messages.{}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
                    i + 1
                )));
            }
        };
        if i == 0 && assistant {
            return Err(validation(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
            ));
        }
        if turns.last().is_some_and(|t| t.assistant == assistant) {
            return Err(validation(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            ));
        }
        let blocks = array(m.get("content"), &format!("messages.{i}.content"))?;
        if blocks.is_empty() {
            return Err(validation(format!(
                "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."
            )));
        }
        let mut turn = Turn {
            assistant,
            ..Turn::default()
        };
        for (j, b) in blocks.iter().enumerate() {
            block(
                &format!("messages.{i}.content.{j}"),
                b,
                has_tool_config,
                &mut turn,
                conv,
            )?;
        }
        turns.push(turn);
    }
    for (i, t) in turns.iter().enumerate() {
        if t.uses.is_empty() {
            continue;
        }
        let next = turns.get(i + 1);
        if let Some(id) = t
            .uses
            .iter()
            .find(|id| next.is_some_and(|n| !n.results.contains(id)))
        {
            return Err(validation(format!(
                "Expected toolResult blocks at messages.{}.content for the following Ids: {id}",
                i + 1
            )));
        }
    }
    if let Some(t) = turns
        .last()
        .filter(|t| !t.assistant && !t.results.is_empty())
    {
        conv.tool_result = Some(t.first_result.clone().unwrap_or_default());
    }
    Ok(())
}

fn valid_tool_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

fn block(
    at: &str,
    b: &Value,
    has_tool_config: bool,
    turn: &mut Turn,
    conv: &mut Conversation,
) -> Result<(), ApiError> {
    let obj = b
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| validation(format!("The value at {at} must have exactly one member")))?;
    let Some((kind, v)) = obj.iter().next() else {
        return Err(validation(format!(
            "The value at {at} must have exactly one member"
        )));
    };
    if !KNOWN_BLOCKS.contains(&kind.as_str()) {
        return Err(validation(format!(
            "Malformed input request: #/{at}: extraneous key [{kind}] is not permitted"
        )));
    }
    if matches!(kind.as_str(), "toolUse" | "toolResult") && !has_tool_config {
        return Err(validation(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ));
    }
    match kind.as_str() {
        "text" => {
            let t = v.as_str().unwrap_or_default();
            if t.trim().is_empty() {
                return Err(validation(format!(
                    "The text field in the ContentBlock object at {at} is blank. Add text to the text field, and try again."
                )));
            }
            conv.prompt_chars += t.chars().count();
        }
        "image" => {
            image(at, v)?;
            conv.images += 1;
        }
        "toolUse" => {
            let id = v
                .get("toolUseId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !valid_tool_id(id) || v.get("name").and_then(Value::as_str).is_none() {
                return Err(validation(format!(
                    "{at}.toolUse needs a toolUseId matching [a-zA-Z0-9_.:-]{{1,64}} and a name"
                )));
            }
            if !v.get("input").is_some_and(Value::is_object) {
                return Err(validation(format!(
                    "{at}.toolUse.input must be a JSON object"
                )));
            }
            if !turn.assistant {
                return Err(validation(format!(
                    "{at}: toolUse blocks are only allowed in assistant messages"
                )));
            }
            conv.prompt_chars += v.get("input").map_or(0, |i| i.to_string().chars().count());
            turn.uses.push(id.to_owned());
        }
        "toolResult" => {
            let id = v
                .get("toolUseId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !valid_tool_id(id) {
                return Err(validation(format!(
                    "{at}.toolResult.toolUseId must match [a-zA-Z0-9_.:-]{{1,64}}"
                )));
            }
            let mut text = String::new();
            for c in array(v.get("content"), &format!("{at}.toolResult.content"))? {
                if let Some(t) = c.get("text").and_then(Value::as_str) {
                    text.push_str(t);
                } else if let Some(j) = c.get("json") {
                    text.push_str(&j.to_string());
                }
            }
            conv.prompt_chars += text.chars().count();
            turn.first_result.get_or_insert(text);
            turn.results.push(id.to_owned());
        }
        "reasoningContent" => {
            let t = v
                .get("reasoningText")
                .and_then(|r| r.get("text"))
                .and_then(Value::as_str);
            conv.prompt_chars += t.map_or(0, |t| t.chars().count());
        }
        _ => {}
    }
    Ok(())
}

fn image(at: &str, v: &Value) -> Result<(), ApiError> {
    let format = v.get("format").and_then(Value::as_str).unwrap_or_default();
    if !FORMATS.contains(&format) {
        return Err(validation(format!(
            "1 validation error detected: Value '{format}' at '{at}.member.image.format' failed to satisfy constraint: Member must satisfy enum value set: [gif, jpeg, png, webp]"
        )));
    }
    let bytes = v
        .get("source")
        .and_then(|s| s.get("bytes"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    use base64::Engine;
    if base64::engine::general_purpose::STANDARD
        .decode(bytes)
        .map_or(true, |b| b.is_empty())
    {
        return Err(validation(format!(
            "Malformed input request: {at}.image.source.bytes is not valid base64 image data"
        )));
    }
    Ok(())
}
