//! What to answer — reply text, tool calls, truncation, stop sequences, usage — independent of the wire format.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use crate::directives::{DEFAULT_TOKENS, Directives};

/// The canned reply; multi-byte UTF-8 on purpose.
pub const DEFAULT_REPLY: &str = "Hello from the Switchyard emulator — héllo wörld ✓ 🚀 ok";
/// Text of the thinking block (`thinking=1`).
const THINKING_TEXT: &str =
    "The user wants an answer, so I will reply with the emulator's canned text.";
/// Signature sent in the `signature_delta` / thinking block.
pub const THINKING_SIGNATURE: &str = "ZW11bGF0b3ItdGhpbmtpbmctc2lnbmF0dXJlLW5vdC1yZWFs";
/// Largest streamed tool-argument fragment, in bytes.
const MAX_FRAGMENT: usize = 8;
/// Streaming fragments of a structured (JSON) answer.
const JSON_FRAGMENTS: usize = 4;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Next number for `chatcmpl-emuN`, `msg_emuN`, `call_emuN`, `toolu_emuN`, `req_emuN`.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// How the client constrained tool use.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    /// OpenAI `required` / Anthropic `any`.
    Any,
    Named(String),
}

/// A tool the client offered: its name and JSON schema of the arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub schema: Value,
}

/// The provider-independent facts of a request that decide the answer.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    /// Characters of all text in the system prompt and the messages.
    pub prompt_chars: usize,
    pub images: usize,
    pub tools: Vec<ToolSpec>,
    pub tool_choice: ToolChoice,
    /// Text of the tool result when the last message is one.
    pub tool_result: Option<String>,
    pub max_tokens: Option<u64>,
    pub stop: Vec<String>,
    /// The request asks for JSON output matching this schema (`{"type":"object"}`: any
    /// object); the answer is then an instance of it ([`instance::instance`]).
    pub output_schema: Option<Value>,
}

/// Provider quirks that change the plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Short text block placed before tool calls (Anthropic).
    pub tool_preamble: Option<&'static str>,
    /// Emit a thinking block (Anthropic `thinking=1`).
    pub thinking: bool,
}

/// Why generation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    EndTurn,
    MaxTokens,
    ToolUse,
    StopSequence(String),
}

/// One tool call of the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: u64,
    pub name: String,
    pub input: Value,
    /// `input` serialized compactly: OpenAI `arguments`, Anthropic `partial_json` pieces.
    pub arguments: String,
}

impl ToolCall {
    /// The argument JSON split at char boundaries into streaming fragments (≥2 when it has ≥2 chars).
    pub fn fragments(&self) -> Vec<&str> {
        let s = self.arguments.as_str();
        let size = s.len().div_ceil(3).clamp(1, MAX_FRAGMENT);
        let mut out = Vec::new();
        let mut start = 0;
        while start < s.len() {
            let mut end = (start + size).min(s.len());
            while !s.is_char_boundary(end) {
                end += 1;
            }
            out.push(&s[start..end]);
            start = end;
        }
        out
    }
}

/// Token accounting in provider-independent terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens excluding cache reads/writes.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

/// The complete answer, rendered by the provider modules.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub thinking: Vec<String>,
    /// Text tokens (each a word plus its following whitespace); one stream event each.
    pub text: Vec<String>,
    pub tool_calls: Vec<ToolCall>,
    pub finish: Finish,
    pub usage: Usage,
}

impl Plan {
    pub fn text(&self) -> String {
        self.text.concat()
    }

    pub fn thinking_text(&self) -> String {
        self.thinking.concat()
    }
}

/// Decide the answer to `conv` under directives `d`.
pub fn plan(conv: &Conversation, d: &Directives, style: Style) -> Plan {
    let thinking = if style.thinking {
        owned(tokenize(THINKING_TEXT))
    } else {
        Vec::new()
    };
    let wants_tool = !conv.tools.is_empty()
        && conv.tool_choice != ToolChoice::None
        && conv.tool_result.is_none();
    let (text, tool_calls, finish) = if wants_tool {
        // A model made to call a tool (`any`, a named tool) starts with the call.
        let text = style
            .tool_preamble
            .filter(|_| conv.tool_choice == ToolChoice::Auto)
            .map(|p| owned(tokenize(p)))
            .unwrap_or_default();
        (text, tool_calls(conv, d), Finish::ToolUse)
    } else if let Some(schema) = &conv.output_schema {
        let json = instance::instance(schema).to_string();
        (
            instance::fragments(&json, JSON_FRAGMENTS),
            Vec::new(),
            Finish::EndTurn,
        )
    } else {
        let (text, finish) = reply_text(conv, d);
        (text, Vec::new(), finish)
    };
    let tool_tokens: u64 = tool_calls
        .iter()
        .map(|c| (c.arguments.chars().count() as u64 / 4).max(1))
        .sum();
    let usage = Usage {
        input_tokens: conv.prompt_chars.div_ceil(4) as u64 + 85 * conv.images as u64 + 10,
        output_tokens: (thinking.len() + text.len()) as u64 + tool_tokens,
        cache_read: d.cache_read,
        cache_write: d.cache_write,
    };
    Plan {
        thinking,
        text,
        tool_calls,
        finish,
        usage,
    }
}

fn owned(pieces: Vec<&str>) -> Vec<String> {
    pieces.into_iter().map(str::to_owned).collect()
}

/// The text answer: optional image prefix + body, cut by `max_tokens` and stop sequences.
fn reply_text(conv: &Conversation, d: &Directives) -> (Vec<String>, Finish) {
    let mut tokens = if conv.images > 0 {
        owned(tokenize(&format!("I see {} image(s). ", conv.images)))
    } else {
        Vec::new()
    };
    let body = match (&conv.tool_result, &d.reply) {
        (Some(result), _) => {
            let head: String = result.chars().take(60).collect();
            format!("Tool result received: {head}")
        }
        (None, Some(reply)) => reply.clone(),
        (None, None) => DEFAULT_REPLY.to_owned(),
    };
    let explicit = conv.tool_result.is_some() || d.reply.is_some();
    let n = d
        .tokens
        .unwrap_or(if explicit { usize::MAX } else { DEFAULT_TOKENS });
    tokens.extend(generate(&body, n));
    let mut finish = Finish::EndTurn;
    if let Some(max) = conv.max_tokens {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if tokens.len() > max {
            tokens.truncate(max);
            finish = Finish::MaxTokens;
        }
    }
    if let Some((cut, seq)) = first_stop(&tokens.concat(), &conv.stop) {
        cut_at(&mut tokens, cut);
        finish = Finish::StopSequence(seq.to_owned());
    }
    (tokens, finish)
}

/// Split text into tokens: each is a run of non-whitespace plus the whitespace after it
/// (leading whitespace joins the first token). Concatenating the tokens gives back `text`.
pub fn tokenize(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut seen_word = false;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = seen_word;
        } else {
            if in_space {
                out.push(&text[start..i]);
                start = i;
                in_space = false;
            }
            seen_word = true;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// `n` tokens of `base`, cycling through it (joined by a space) when `n` exceeds its length.
/// A truncated or cycled reply never ends with whitespace.
fn generate(base: &str, n: usize) -> Vec<String> {
    let pieces = tokenize(base);
    let len = pieces.len();
    if len == 0 || n == 0 {
        return Vec::new();
    }
    if n == len || n == usize::MAX {
        return owned(pieces);
    }
    let mut out: Vec<String> = Vec::with_capacity(n.min(65_536));
    for i in 0..n {
        let p = pieces[i % len];
        if i % len == len - 1 && !p.ends_with(char::is_whitespace) {
            out.push(format!("{p} "));
        } else {
            out.push(p.to_owned());
        }
    }
    if let Some(last) = out.last_mut() {
        last.truncate(last.trim_end().len());
        if last.is_empty() {
            out.pop();
        }
    }
    out
}

/// Byte offset and value of the earliest stop sequence found in `text`.
fn first_stop<'a>(text: &str, stops: &'a [String]) -> Option<(usize, &'a str)> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|pos| (pos, s.as_str())))
        .min_by_key(|(pos, _)| *pos)
}

/// Keep only the first `cut` bytes of the concatenated tokens.
fn cut_at(tokens: &mut Vec<String>, cut: usize) {
    let mut used = 0;
    let mut keep = 0;
    for t in tokens.iter_mut() {
        if used >= cut {
            break;
        }
        let room = cut - used;
        if t.len() > room {
            t.truncate(room);
        }
        used += t.len();
        keep += 1;
    }
    tokens.truncate(keep);
}

/// The calls of a tool-use answer: the named tool (`tool_choice`), else the tool the `call`
/// directive names when it is offered, else the first tool.
fn tool_calls(conv: &Conversation, d: &Directives) -> Vec<ToolCall> {
    let parallel = d.parallel_tools;
    let find = |name: &str| conv.tools.iter().find(|t| t.name == name);
    let empty = Value::Object(Map::new());
    let preferred = d.call.as_deref().and_then(find);
    let first = match &conv.tool_choice {
        ToolChoice::Named(name) => (name.as_str(), find(name).map_or(&empty, |t| &t.schema)),
        _ => match preferred.or(conv.tools.first()) {
            Some(t) => (t.name.as_str(), &t.schema),
            None => return Vec::new(),
        },
    };
    let mut calls = vec![(first, false)];
    if parallel {
        match (&conv.tool_choice, conv.tools.get(1)) {
            (ToolChoice::Named(_), _) | (_, None) => calls.push((first, true)),
            (_, Some(t)) => calls.push(((t.name.as_str(), &t.schema), false)),
        }
    }
    calls
        .into_iter()
        .map(|((name, schema), alt)| {
            let input = build_args(schema, alt);
            let arguments = input.to_string();
            ToolCall {
                id: next_id(),
                name: name.to_owned(),
                input,
                arguments,
            }
        })
        .collect()
}

/// Arguments built from a JSON schema's `properties` (the `required` ones if listed, else all).
/// `alt` picks a second set of values so parallel calls of one tool differ.
pub fn build_args(schema: &Value, alt: bool) -> Value {
    let mut out = Map::new();
    let props = schema.get("properties").and_then(Value::as_object);
    let keys: Vec<&str> = match (schema.get("required").and_then(Value::as_array), props) {
        (Some(req), _) => req.iter().filter_map(Value::as_str).collect(),
        (None, Some(p)) => p.keys().map(String::as_str).collect(),
        (None, None) => Vec::new(),
    };
    for key in keys {
        let prop = props.and_then(|p| p.get(key));
        out.insert(key.to_owned(), sample(prop, alt, schema));
    }
    Value::Object(out)
}

fn sample(schema: Option<&Value>, alt: bool, root: &Value) -> Value {
    let Some(s) = schema else {
        return json!(if alt { "London" } else { "Paris" });
    };
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if ["$ref", "anyOf", "oneOf", "allOf", "format"]
        .iter()
        .any(|k| s.get(*k).is_some())
    {
        return instance::instance_in(s, root);
    }
    if let Some(e) = s
        .get("enum")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        let i = usize::from(alt && e.len() > 1);
        return e[i].clone();
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => "string",
    };
    match (ty, alt) {
        ("integer", false) => json!(42),
        ("integer", true) => json!(7),
        ("number", false) => json!(1.5),
        ("number", true) => json!(2.5),
        ("boolean", a) => json!(!a),
        // Structured values (nested models, lists) validate: a full instance of them.
        ("array" | "object", _) => instance::instance_in(s, root),
        ("null", _) => Value::Null,
        (_, false) => json!("Paris"),
        (_, true) => json!("London"),
    }
}

pub mod instance;

#[cfg(test)]
mod tests;
