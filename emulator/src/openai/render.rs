//! OpenAI Chat Completions responses: the `chat.completion` JSON object and the `data:` SSE chunk stream.

use bytes::Bytes;
use serde::Serialize;

use crate::scenario::{Finish, Plan, Usage};

/// Per-response values shared by every chunk.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub id: u64,
    pub created: u64,
    /// Model as reported (the part before `#`).
    pub model: &'a str,
    pub include_usage: bool,
    pub no_usage: bool,
    pub no_done: bool,
    /// Separators `", "` and `": "` (Python's `json.dumps` default) instead of compact JSON.
    pub spaced: bool,
}

const FINGERPRINT: &str = "fp_emulator";

#[derive(Serialize)]
pub struct UsageOut {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptDetails,
    completion_tokens_details: CompletionDetails,
}

#[derive(Serialize)]
struct PromptDetails {
    cached_tokens: u64,
    audio_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    cache_write_tokens: u64,
}

#[derive(Serialize)]
struct CompletionDetails {
    reasoning_tokens: u64,
    audio_tokens: u64,
    accepted_prediction_tokens: u64,
    rejected_prediction_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn usage(u: &Usage) -> UsageOut {
    let prompt = u.input_tokens + u.cache_read + u.cache_write;
    UsageOut {
        prompt_tokens: prompt,
        completion_tokens: u.output_tokens,
        total_tokens: prompt + u.output_tokens,
        prompt_tokens_details: PromptDetails {
            cached_tokens: u.cache_read,
            audio_tokens: 0,
            cache_write_tokens: u.cache_write,
        },
        completion_tokens_details: CompletionDetails {
            reasoning_tokens: 0,
            audio_tokens: 0,
            accepted_prediction_tokens: 0,
            rejected_prediction_tokens: 0,
        },
    }
}

fn finish_reason(f: &Finish) -> &'static str {
    match f {
        Finish::EndTurn | Finish::StopSequence(_) => "stop",
        Finish::MaxTokens => "length",
        Finish::ToolUse => "tool_calls",
    }
}

#[derive(Serialize)]
struct Completion<'a> {
    id: String,
    object: &'static str,
    created: u64,
    model: &'a str,
    system_fingerprint: &'static str,
    service_tier: &'static str,
    choices: [Choice<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: Option<&'a str>,
    refusal: Option<()>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut<'a>>,
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// The non-streaming `chat.completion` body.
pub fn render_json(plan: &Plan, ctx: &Ctx) -> Vec<u8> {
    let text = plan.text();
    let content = if text.is_empty() && !plan.tool_calls.is_empty() {
        None
    } else {
        Some(text.as_str())
    };
    let tool_calls = plan
        .tool_calls
        .iter()
        .map(|c| ToolCallOut {
            id: format!("call_emu{}", c.id),
            kind: "function",
            function: FunctionOut {
                name: &c.name,
                arguments: &c.arguments,
            },
        })
        .collect();
    let body = Completion {
        id: format!("chatcmpl-emu{}", ctx.id),
        object: "chat.completion",
        created: ctx.created,
        model: ctx.model,
        system_fingerprint: FINGERPRINT,
        service_tier: "default",
        choices: [Choice {
            index: 0,
            message: Message {
                role: "assistant",
                content,
                refusal: None,
                tool_calls,
            },
            logprobs: None,
            finish_reason: finish_reason(&plan.finish),
        }],
        usage: (!ctx.no_usage).then(|| usage(&plan.usage)),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    system_fingerprint: &'static str,
    choices: Vec<ChunkChoice<'a>>,
    /// Absent without `include_usage`; `null` on ordinary chunks with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<&'a UsageOut>>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDelta<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolCallDelta<'a> {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDelta<'a>,
}

#[derive(Serialize)]
struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

/// Python-style separators: `", "` between members and elements, `": "` after keys.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

fn sse(chunk: &Chunk, spaced: bool) -> Bytes {
    let mut buf = Vec::with_capacity(320);
    buf.extend_from_slice(b"data: ");
    let written = if spaced {
        chunk.serialize(&mut serde_json::Serializer::with_formatter(
            &mut buf, Spaced,
        ))
    } else {
        serde_json::to_writer(&mut buf, chunk)
    };
    if written.is_err() {
        buf.extend_from_slice(b"{}");
    }
    buf.extend_from_slice(b"\n\n");
    Bytes::from(buf)
}

/// The SSE events of a streamed answer, one `data: ...\n\n` each, ending with `data: [DONE]`.
pub fn render_sse(plan: &Plan, ctx: &Ctx) -> Vec<Bytes> {
    let id = format!("chatcmpl-emu{}", ctx.id);
    let null_usage = ctx.include_usage.then_some(None);
    let chunk = |delta: Delta<'_>, finish: Option<&'static str>| -> Bytes {
        sse(
            &Chunk {
                id: &id,
                object: "chat.completion.chunk",
                created: ctx.created,
                model: ctx.model,
                system_fingerprint: FINGERPRINT,
                choices: vec![ChunkChoice {
                    index: 0,
                    delta,
                    logprobs: None,
                    finish_reason: finish,
                }],
                usage: null_usage,
            },
            ctx.spaced,
        )
    };
    let mut events = Vec::with_capacity(plan.text.len() + 8);
    let first = if plan.text.is_empty() && !plan.tool_calls.is_empty() {
        Delta {
            role: Some("assistant"),
            content: Some(None),
            ..Default::default()
        }
    } else {
        Delta {
            role: Some("assistant"),
            content: Some(Some("")),
            refusal: Some(None),
            ..Default::default()
        }
    };
    events.push(chunk(first, None));
    for t in &plan.text {
        let delta = Delta {
            content: Some(Some(t)),
            ..Default::default()
        };
        events.push(chunk(delta, None));
    }
    for (index, call) in plan.tool_calls.iter().enumerate() {
        let head = ToolCallDelta {
            index,
            id: Some(format!("call_emu{}", call.id)),
            kind: Some("function"),
            function: FunctionDelta {
                name: Some(&call.name),
                arguments: "",
            },
        };
        let delta = |tc| Delta {
            tool_calls: Some([tc]),
            ..Default::default()
        };
        events.push(chunk(delta(head), None));
        for piece in call.fragments() {
            let tc = ToolCallDelta {
                index,
                id: None,
                kind: None,
                function: FunctionDelta {
                    name: None,
                    arguments: piece,
                },
            };
            events.push(chunk(delta(tc), None));
        }
    }
    events.push(chunk(Delta::default(), Some(finish_reason(&plan.finish))));
    if ctx.include_usage && !ctx.no_usage {
        let u = usage(&plan.usage);
        events.push(sse(
            &Chunk {
                id: &id,
                object: "chat.completion.chunk",
                created: ctx.created,
                model: ctx.model,
                system_fingerprint: FINGERPRINT,
                choices: Vec::new(),
                usage: Some(Some(&u)),
            },
            ctx.spaced,
        ));
    }
    if !ctx.no_done {
        events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    }
    events
}

/// The in-band error event of `error_after`.
pub fn stream_error_event() -> Bytes {
    Bytes::from_static(
        b"data: {\"error\":{\"message\":\"The server had an error while processing your request (emulated by switchyard-emulator, error_after).\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directives::Directives;
    use crate::scenario::{Conversation, Style, ToolSpec, plan};
    use serde_json::{Value, json};

    fn ctx(include_usage: bool) -> Ctx<'static> {
        Ctx {
            id: 7,
            created: 1_700_000_000,
            model: "gpt-4o-mini",
            include_usage,
            no_usage: false,
            spaced: false,
            no_done: false,
        }
    }

    fn parse_events(events: &[Bytes]) -> Vec<Value> {
        let mut out = Vec::new();
        for e in events {
            let s = std::str::from_utf8(e).unwrap();
            let data = s
                .strip_prefix("data: ")
                .unwrap()
                .strip_suffix("\n\n")
                .unwrap();
            if data == "[DONE]" {
                continue;
            }
            out.push(serde_json::from_str(data).unwrap());
        }
        out
    }

    fn tools_conv() -> Conversation {
        Conversation {
            tools: vec![
                ToolSpec {
                    name: "get_weather".into(),
                    schema: json!({"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}},"required":["city","unit"]}),
                },
                ToolSpec {
                    name: "get_time".into(),
                    schema: json!({"type":"object","properties":{"tz":{"type":"string"}}}),
                },
            ],
            ..Default::default()
        }
    }

    /// `spaced` changes the spelling of every chunk, never its value.
    #[test]
    fn spaced_stream_has_same_values() {
        let p = plan(&tools_conv(), &Directives::default(), Style::default());
        let compact = render_sse(&p, &ctx(true));
        let spaced_ctx = Ctx {
            spaced: true,
            ..ctx(true)
        };
        let spaced = render_sse(&p, &spaced_ctx);
        assert_eq!(parse_events(&compact), parse_events(&spaced));
        let first = std::str::from_utf8(&spaced[0]).unwrap();
        assert!(
            first.contains("\"object\": \"chat.completion.chunk\", "),
            "{first}"
        );
        assert!(!first.trim_end().contains('\n'));
    }

    #[test]
    fn text_stream_shape() {
        let p = plan(
            &Conversation::default(),
            &Directives::default(),
            Style::default(),
        );
        let events = render_sse(&p, &ctx(true));
        assert_eq!(events.last().unwrap().as_ref(), b"data: [DONE]\n\n");
        let chunks = parse_events(&events);
        assert_eq!(chunks.len(), 1 + 11 + 1 + 1);
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role":"assistant","content":"","refusal":null})
        );
        let text: String = chunks[1..12]
            .iter()
            .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
            .collect();
        assert_eq!(text, p.text());
        assert_eq!(chunks[12]["choices"][0]["delta"], json!({}));
        assert_eq!(chunks[12]["choices"][0]["finish_reason"], "stop");
        assert!(
            chunks[..13]
                .iter()
                .all(|c| c["usage"].is_null() && c.get("usage").is_some())
        );
        assert_eq!(chunks[13]["choices"], json!([]));
        assert_eq!(chunks[13]["usage"]["completion_tokens"], 11);
        assert!(
            chunks
                .iter()
                .all(|c| c["id"] == "chatcmpl-emu7" && c["created"] == 1_700_000_000)
        );
        let raw = std::str::from_utf8(&events[0]).unwrap();
        assert!(raw.starts_with(
            r#"data: {"id":"chatcmpl-emu7","object":"chat.completion.chunk","created":"#
        ));
    }

    #[test]
    fn no_usage_field_without_include_usage() {
        let p = plan(
            &Conversation::default(),
            &Directives::default(),
            Style::default(),
        );
        let chunks = parse_events(&render_sse(&p, &ctx(false)));
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
        let mut c = ctx(false);
        c.no_done = true;
        assert_ne!(
            render_sse(&p, &c).last().unwrap().as_ref(),
            b"data: [DONE]\n\n"
        );
    }

    #[test]
    fn parallel_tool_call_stream_reassembles() {
        let d = Directives {
            parallel_tools: true,
            ..Default::default()
        };
        let p = plan(&tools_conv(), &d, Style::default());
        let chunks = parse_events(&render_sse(&p, &ctx(false)));
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role":"assistant","content":null})
        );
        let mut args = [String::new(), String::new()];
        let mut heads = 0;
        for c in &chunks {
            for tc in c["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let i = tc["index"].as_u64().unwrap() as usize;
                if tc.get("id").is_some() {
                    heads += 1;
                    assert_eq!(tc["type"], "function");
                    assert_eq!(tc["function"]["arguments"], "");
                } else {
                    assert_eq!(tc.as_object().unwrap().len(), 2);
                }
                args[i].push_str(tc["function"]["arguments"].as_str().unwrap());
            }
        }
        assert_eq!(heads, 2);
        let a0: Value = serde_json::from_str(&args[0]).unwrap();
        let a1: Value = serde_json::from_str(&args[1]).unwrap();
        assert_eq!(a0, json!({"city":"Paris","unit":"c"}));
        assert_eq!(a1, json!({"tz":"Paris"}));
        let fin = &chunks[chunks.len() - 1];
        assert_eq!(fin["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn json_shape() {
        let d = Directives {
            cache_read: 5,
            ..Default::default()
        };
        let p = plan(&tools_conv(), &d, Style::default());
        let v: Value = serde_json::from_slice(&render_json(&p, &ctx(false))).unwrap();
        assert_eq!(v["object"], "chat.completion");
        let msg = &v["choices"][0]["message"];
        assert!(msg["content"].is_null() && msg["refusal"].is_null());
        assert_eq!(msg["tool_calls"][0]["function"]["name"], "get_weather");
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(v["usage"]["prompt_tokens"], 10 + 5);
        assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 5);
        let p = plan(
            &Conversation::default(),
            &Directives::default(),
            Style::default(),
        );
        let v: Value = serde_json::from_slice(&render_json(&p, &ctx(false))).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], p.text());
        assert!(v["choices"][0]["message"].get("tool_calls").is_none());
        let s: Value = serde_json::from_slice(&stream_error_event()[6..]).unwrap();
        assert_eq!(s["error"]["type"], "server_error");
    }
}
