use super::*;
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::ctx;
use crate::stream::SseParser;
use serde_json::{Value, json};

const OAI_TEXT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/openai/text.sse"
));
const OAI_TOOLS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/openai/parallel_tools.sse"
));
const ANT_TOOLS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/anthropic/tool_use.sse"
));

/// Translates `input` (a `kind` stream) fed in pieces cut at `cuts`; returns output and error.
fn run(kind: ProviderKind, input: &[u8], cuts: &[usize]) -> (String, Option<String>) {
    let c = ctx(true);
    let inner = StreamTranslator::new(kind, &c, "requested-model");
    let mut t = ToAnthropic::new(inner, &c, "requested-model");
    let mut out = BytesMut::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        if let Err(e) = t.feed(&input[last..cut], &mut out) {
            return (
                String::from_utf8(out.to_vec()).unwrap(),
                Some(e.to_string()),
            );
        }
        last = cut;
    }
    let err = t.finish(&mut out).err().map(|e| e.to_string());
    (String::from_utf8(out.to_vec()).unwrap(), err)
}

/// Parses Anthropic SSE output with the gateway's own parser, checking the framing:
/// every event is named and its name equals `data.type`.
fn events(out: &str) -> Vec<Value> {
    let mut p = SseParser::new();
    p.feed(out.as_bytes());
    let mut v = Vec::new();
    while let Some(e) = p.next_event().unwrap() {
        let data: Value = serde_json::from_str(e.data).unwrap();
        assert_eq!(data["type"], e.event, "event name matches data.type");
        v.push(data);
    }
    assert!(
        p.finish().unwrap().is_none(),
        "output ends on an event boundary"
    );
    v
}

/// What an Anthropic client assembles: (blocks, stop_reason, final usage), after checking the
/// order invariants: one message_start first, blocks opened and closed in order with
/// increasing indices, deltas only inside their open block, message_stop last.
fn assemble(evs: &[Value]) -> (Vec<Value>, String, Value) {
    assert_eq!(evs.first().unwrap()["type"], "message_start");
    assert_eq!(evs.last().unwrap()["type"], "message_stop");
    let count = |t: &str| evs.iter().filter(|e| e["type"] == t).count();
    assert_eq!(count("message_start"), 1);
    assert_eq!(count("message_stop"), 1);
    assert_eq!(count("message_delta"), 1);
    let mut blocks: Vec<Value> = Vec::new();
    let mut json_parts: Vec<String> = Vec::new();
    let mut open: Option<u64> = None;
    let (mut stop, mut usage) = (String::new(), Value::Null);
    for e in evs {
        match e["type"].as_str().unwrap() {
            "content_block_start" => {
                assert!(open.is_none(), "a block opened while another was open");
                let i = e["index"].as_u64().unwrap();
                assert_eq!(i as usize, blocks.len(), "indices increase by one");
                open = Some(i);
                blocks.push(e["content_block"].clone());
                json_parts.push(String::new());
            }
            "content_block_delta" => {
                let i = e["index"].as_u64().unwrap();
                assert_eq!(open, Some(i), "delta outside its block");
                let b = &mut blocks[i as usize];
                let d = &e["delta"];
                match d["type"].as_str().unwrap() {
                    "text_delta" => {
                        let t = format!(
                            "{}{}",
                            b["text"].as_str().unwrap(),
                            d["text"].as_str().unwrap()
                        );
                        b["text"] = json!(t);
                    }
                    "thinking_delta" => {
                        let t = format!(
                            "{}{}",
                            b["thinking"].as_str().unwrap(),
                            d["thinking"].as_str().unwrap()
                        );
                        b["thinking"] = json!(t);
                    }
                    "input_json_delta" => {
                        json_parts[i as usize].push_str(d["partial_json"].as_str().unwrap())
                    }
                    other => panic!("unexpected delta {other}"),
                }
            }
            "content_block_stop" => {
                let i = e["index"].as_u64().unwrap();
                assert_eq!(open.take(), Some(i), "stop of a block that is not open");
                if blocks[i as usize]["type"] == "tool_use" {
                    blocks[i as usize]["input"] =
                        serde_json::from_str(&json_parts[i as usize]).unwrap();
                }
            }
            "message_delta" => {
                assert!(open.is_none(), "message_delta with an open block");
                stop = e["delta"]["stop_reason"].as_str().unwrap().to_string();
                usage = e["usage"].clone();
            }
            _ => {}
        }
    }
    (blocks, stop, usage)
}

/// Asserts every single split (and 3-byte pieces) gives the unsplit output.
fn split_invariant(kind: ProviderKind, input: &[u8]) -> String {
    let whole = run(kind, input, &[]);
    assert_eq!(whole.1, None, "clean transcript");
    for i in 0..=input.len() {
        assert_eq!(run(kind, input, &[i]), whole, "split at byte {i}");
    }
    let cuts: Vec<usize> = (0..input.len()).step_by(3).collect();
    assert_eq!(run(kind, input, &cuts), whole, "3-byte pieces");
    whole.0
}

/// A real OpenAI text stream: one text block, end_turn, usage from the usage chunk.
#[test]
fn openai_text_transcript() {
    let out = split_invariant(ProviderKind::OpenAi, OAI_TEXT);
    let evs = events(&out);
    assert_eq!(evs[1]["type"], "ping", "ping follows message_start");
    assert_eq!(evs[0]["message"]["model"], "gpt-4o-2024-08-06");
    assert_eq!(evs[0]["message"]["id"], "msg_req1");
    let (blocks, stop, usage) = assemble(&evs);
    assert_eq!(blocks, vec![json!({"type": "text", "text": "Hello!"})]);
    assert_eq!(stop, "end_turn");
    assert_eq!(usage["input_tokens"], 12);
    assert_eq!(usage["output_tokens"], 3);
}

/// The real OpenAI parallel tool-call recording: one tool_use block per call index, closed in
/// order, arguments reassembled into objects, stop_reason tool_use.
#[test]
fn openai_parallel_tools_transcript() {
    let out = split_invariant(ProviderKind::OpenAi, OAI_TOOLS);
    let (blocks, stop, usage) = assemble(&events(&out));
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0]["type"], "tool_use");
    assert_eq!(blocks[0]["id"], "call_JMW1whyEaYG438VE1OIflxA2");
    assert_eq!(blocks[0]["name"], "GetWeatherArgs");
    assert_eq!(blocks[0]["input"]["city"], "Edinburgh");
    assert_eq!(blocks[1]["name"], "get_stock_price");
    assert_eq!(
        blocks[1]["input"],
        json!({"ticker": "AAPL", "exchange": "NASDAQ"})
    );
    assert_eq!(stop, "tool_use");
    assert_eq!(
        (
            usage["input_tokens"].as_u64(),
            usage["output_tokens"].as_u64()
        ),
        (Some(149), Some(60))
    );
}

/// A real Anthropic stream through the Anthropic→OpenAI translator and back: text then tool
/// use survive the round trip.
#[test]
fn anthropic_round_trip_through_openai() {
    let out = split_invariant(ProviderKind::Anthropic, ANT_TOOLS);
    let (blocks, stop, usage) = assemble(&events(&out));
    assert_eq!(blocks[0]["type"], "text");
    assert_eq!(
        blocks[0]["text"],
        "I'll check the current weather in Paris for you."
    );
    assert_eq!(blocks[1]["type"], "tool_use");
    assert_eq!(blocks[1]["id"], "toolu_01NRLabsLyVHZPKxbKvkfSMn");
    assert_eq!(blocks[1]["input"], json!({"location": "Paris"}));
    assert_eq!(stop, "tool_use");
    assert_eq!(usage["input_tokens"], 377);
    assert_eq!(usage["output_tokens"], 65);
}

/// Reasoning, text and refusal deltas become a thinking block then a text block; a length
/// finish is max_tokens; cached tokens are split out of input_tokens.
#[test]
fn reasoning_then_text_and_length() {
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let input = [
        chunk(r#"{"role":"assistant","content":""}"#, "null"),
        chunk(r#"{"reasoning_content":"think "}"#, "null"),
        chunk(r#"{"reasoning_content":"more"}"#, "null"),
        chunk(r#"{"content":"answer"}"#, "null"),
        chunk("{}", "\"length\""),
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":9,\"prompt_tokens_details\":{\"cached_tokens\":20}}}\n\n".to_string(),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat();
    let out = split_invariant(ProviderKind::OpenAi, input.as_bytes());
    let (blocks, stop, usage) = assemble(&events(&out));
    assert_eq!(
        blocks[0],
        json!({"type": "thinking", "thinking": "think more", "signature": ""})
    );
    assert_eq!(blocks[1], json!({"type": "text", "text": "answer"}));
    assert_eq!(stop, "max_tokens");
    assert_eq!(usage["input_tokens"], 30);
    assert_eq!(usage["cache_read_input_tokens"], 20);
}

/// A truncated stream is an error and never ends with message_stop.
#[test]
fn truncation_is_an_error() {
    let cut = &OAI_TEXT[..OAI_TEXT.len() / 2];
    let (out, err) = run(ProviderKind::OpenAi, cut, &[]);
    assert!(err.unwrap().contains("before it was complete"));
    assert!(!out.contains("message_stop"));
}

/// Feeds `input` to `t` cut at `cut` (whole when `cut` is 0): (output, error).
fn drive(t: &mut ClientStreamUnderTest, input: &[u8], cut: usize) -> (Vec<u8>, Option<String>) {
    let mut out = BytesMut::new();
    let pieces: Vec<&[u8]> = if cut == 0 {
        vec![input]
    } else {
        vec![&input[..cut], &input[cut..]]
    };
    for p in pieces {
        if let Err(e) = t.feed(p, &mut out) {
            return (out.to_vec(), Some(e.to_string()));
        }
    }
    let err = t.finish(&mut out).err().map(|e| e.to_string());
    (out.to_vec(), err)
}

type ClientStreamUnderTest = crate::frontends::ClientStream;

/// Every translated provider kind's recorded streams give the same Anthropic events (and the
/// same errors) whether the provider's translator writes them straight into [`AnthropicEvents`]
/// or renders OpenAI chunks that [`ToAnthropic`] parses again (the former two-stage path) —
/// fed whole and split at every byte.
#[test]
fn events_sink_matches_the_two_stage_path() {
    let kinds = [
        (ProviderKind::Anthropic, "anthropic"),
        (ProviderKind::Gemini, "gemini"),
        (ProviderKind::Bedrock, "bedrock"),
        (ProviderKind::Ollama, "ollama"),
        (ProviderKind::Cohere, "cohere"),
    ];
    let mut checked = 0;
    for (kind, dir) in kinds {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(dir);
        for entry in std::fs::read_dir(&path).unwrap() {
            let file = entry.unwrap().path();
            if file.extension().is_some_and(|e| e == "py") {
                continue;
            }
            let input = std::fs::read(&file).unwrap();
            let c = ctx(true);
            let two_stage = || {
                crate::frontends::ClientStream::ToAnthropic(Box::new(ToAnthropic::new(
                    StreamTranslator::new(kind, &c, "requested-model"),
                    &c,
                    "requested-model",
                )))
            };
            let direct_ctx = TranslateCtx {
                format: Some(&crate::frontends::anthropic_messages::FORMAT),
                ..c.clone()
            };
            let direct = || {
                crate::frontends::ClientStream::Translated(StreamTranslator::new(
                    kind,
                    &direct_ctx,
                    "requested-model",
                ))
            };
            let (want, want_err) = drive(&mut two_stage(), &input, 0);
            assert!(!want.is_empty() || want_err.is_some(), "{file:?}");
            for cut in 0..input.len() {
                let (got, got_err) = drive(&mut direct(), &input, cut);
                assert_eq!(got_err, want_err, "{file:?} cut at {cut}");
                if want_err.is_none() {
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&want),
                        "{file:?} cut at {cut}"
                    );
                } else {
                    // On an in-band error the two-stage path lost the events rendered in the
                    // same feed before the error; the direct path keeps them (the relay then
                    // appends the error event), as the chat path always did.
                    assert!(got.starts_with(&want), "{file:?} cut at {cut}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} transcripts checked");
}
