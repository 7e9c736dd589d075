//! Every valid JSON spelling of a provider stream streams the same (docs/wire/streaming.md).
//!
//! Recorded transcripts are re-spaced (random spaces and tabs around every structural token,
//! one line per event, strings untouched), fed at random byte splits, and compared with the
//! compact run: the parsed events the client sees, the error, the usage, and the event at which
//! the stream first reports output (which ends the failover window and starts the relay).

use super::settings::ProviderKind;
use super::testutil::ctx;
use super::{StreamTranslator, TranslateCtx};
use crate::frontends::anthropic_messages::ToAnthropic;
use crate::translate::Usage;
use bytes::BytesMut;
use proptest::prelude::*;
use serde_json::Value;

const OPENAI_TEXT: &str = include_str!("../../tests/fixtures/openai/text.sse");
const OPENAI_TOOLS: &str = include_str!("../../tests/fixtures/openai/parallel_tools.sse");
const AZURE_FILTER: &str = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n";
/// A stream cut by an in-band error after some output.
const OPENAI_ERROR: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think \\\"usage\\\": {}\"},\"finish_reason\":null}]}\n\ndata: {\"error\":{\"message\":\"quota gone\",\"type\":\"insufficient_quota\"}}\n\n";

/// A tiny deterministic generator, seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Zero to three spaces or tabs.
    fn ws(&mut self, out: &mut Vec<u8>) {
        for _ in 0..self.next() % 4 {
            out.push(if self.next().is_multiple_of(3) {
                b'\t'
            } else {
                b' '
            });
        }
    }
}

/// `json` with random whitespace around every structural token; string contents unchanged.
fn respace(json: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() * 2);
    let (mut in_str, mut esc) = (false, false);
    for &b in json {
        if in_str {
            out.push(b);
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'{' | b'}' | b'[' | b']' | b':' | b',' => {
                rng.ws(&mut out);
                out.push(b);
                rng.ws(&mut out);
            }
            b'"' => {
                in_str = true;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    out
}

/// Re-spaces the JSON of every `data:` line (SSE) or every line (NDJSON).
fn respace_transcript(input: &str, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(input.len() * 2);
    for line in input.split_inclusive('\n') {
        let (prefix, rest) = match line.strip_prefix("data: ") {
            Some(rest) => ("data: ", rest),
            None if line.starts_with('{') => ("", line),
            None => ("", ""),
        };
        if rest.is_empty() || rest.trim() == "[DONE]" {
            out.extend_from_slice(line.as_bytes());
            continue;
        }
        let body = rest.trim_end_matches('\n');
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(&respace(body.as_bytes(), &mut rng));
        out.extend_from_slice(&rest.as_bytes()[body.len()..]);
    }
    out
}

/// One client-visible frame: its event name and its data, parsed when it is JSON.
#[derive(Debug, PartialEq)]
enum Data {
    Json(Value),
    Text(String),
}

fn frames(out: &[u8]) -> Vec<(String, Data)> {
    let text = std::str::from_utf8(out).expect("UTF-8 output");
    assert!(text.is_empty() || text.ends_with("\n\n"), "framing: {text}");
    text.split_terminator("\n\n")
        .map(|frame| {
            let mut name = String::new();
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = d.to_string();
                }
            }
            let data =
                serde_json::from_str(&data).map_or(Data::Text(data), |v| Data::Json(embedded(v)));
            (name, data)
        })
        .collect()
}

/// Tool arguments copied from a provider's JSON object (Gemini, Ollama) keep the provider's
/// spelling: strings holding a whole JSON object or array compare by value.
fn embedded(v: Value) -> Value {
    match v {
        Value::String(s) if s.starts_with(['{', '[']) => {
            serde_json::from_str(&s).unwrap_or(Value::String(s))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(embedded).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, embedded(v))).collect()),
        other => other,
    }
}

/// Something that turns provider bytes into client events.
trait Under {
    fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<(), String>;
    fn finish(&mut self, out: &mut BytesMut) -> Result<(), String>;
    fn has_output(&self) -> bool;
    fn usage(&self) -> Usage;
}

impl Under for StreamTranslator {
    fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<(), String> {
        StreamTranslator::feed(self, chunk, out)
            .map(drop)
            .map_err(|e| e.to_string())
    }
    fn finish(&mut self, out: &mut BytesMut) -> Result<(), String> {
        StreamTranslator::finish(self, out).map_err(|e| e.to_string())
    }
    fn has_output(&self) -> bool {
        StreamTranslator::has_output(self)
    }
    fn usage(&self) -> Usage {
        StreamTranslator::usage(self)
    }
}

impl Under for ToAnthropic {
    fn feed(&mut self, chunk: &[u8], out: &mut BytesMut) -> Result<(), String> {
        ToAnthropic::feed(self, chunk, out)
            .map(drop)
            .map_err(|e| e.to_string())
    }
    fn finish(&mut self, out: &mut BytesMut) -> Result<(), String> {
        ToAnthropic::finish(self, out).map_err(|e| e.to_string())
    }
    fn has_output(&self) -> bool {
        ToAnthropic::has_output(self)
    }
    fn usage(&self) -> Usage {
        ToAnthropic::usage(self)
    }
}

/// The client-visible result of one run.
#[derive(Debug, PartialEq)]
struct Seen {
    frames: Vec<(String, Data)>,
    error: Option<String>,
    usage: Usage,
    /// `has_output` sampled after a number of complete input events (`None`: not sampled).
    output_at: Vec<Option<bool>>,
}

/// Feeds `input` cut at `cuts`; `has_output` is sampled after every piece and attributed to
/// the number of complete events (`sep`-terminated) fed so far.
fn run(mut t: Box<dyn Under>, input: &[u8], cuts: &[usize], sep: &[u8]) -> Seen {
    let events = count(input, sep);
    let mut output_at = vec![None; events + 1];
    let mut out = BytesMut::new();
    let mut error = None;
    let mut last = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    for c in cuts.into_iter().chain([input.len()]) {
        if let Err(e) = t.feed(&input[last..c], &mut out) {
            error = Some(e);
            break;
        }
        last = c;
        let seen = output_at[count(&input[..c], sep)].get_or_insert(t.has_output());
        assert_eq!(
            *seen,
            t.has_output(),
            "has_output moved within one event: {}",
            String::from_utf8_lossy(&input[..c])
        );
    }
    if error.is_none() {
        error = t.finish(&mut out).err();
    }
    Seen {
        frames: frames(&out),
        error,
        usage: t.usage(),
        output_at,
    }
}

fn count(data: &[u8], sep: &[u8]) -> usize {
    memchr::memmem::find_iter(data, sep).count()
}

/// Per-event `has_output` of the compact transcript, feeding one event at a time.
fn timeline(make: &dyn Fn() -> Box<dyn Under>, input: &[u8], sep: &[u8]) -> Vec<bool> {
    let mut t = make();
    let mut out = BytesMut::new();
    let mut at = vec![false];
    let mut last = 0;
    for end in memchr::memmem::find_iter(input, sep).map(|i| i + sep.len()) {
        if t.feed(&input[last..end], &mut out).is_err() {
            break;
        }
        last = end;
        at.push(t.has_output());
    }
    at
}

/// Asserts the spaced, split run of `input` is the compact, unsplit run.
fn assert_same(
    make: &dyn Fn() -> Box<dyn Under>,
    input: &str,
    sep: &[u8],
    seed: u64,
    cuts: &[usize],
) -> Result<(), TestCaseError> {
    // A lone CR ends a line in SSE: a CRLF event is complete at its blank line's CR.
    let sep: &[u8] = if input.contains("\r\n\r\n") {
        b"\r\n\r"
    } else {
        sep
    };
    let compact = run(make(), input.as_bytes(), &[], sep);
    let spaced = respace_transcript(input, seed);
    prop_assert_eq!(count(&spaced, sep), count(input.as_bytes(), sep));
    let got = run(make(), &spaced, cuts, sep);
    prop_assert_eq!(&got.frames, &compact.frames);
    prop_assert_eq!(&got.error, &compact.error);
    prop_assert_eq!(got.usage, compact.usage);
    // Output is reported at the same event whatever the spelling and the split.
    let per_event = timeline(make, input.as_bytes(), sep);
    for (k, seen) in got.output_at.iter().enumerate() {
        if let (Some(seen), Some(expected)) = (seen, per_event.get(k)) {
            prop_assert_eq!(seen, expected, "has_output after {} events", k);
        }
    }
    Ok(())
}

fn translator(kind: ProviderKind, include_usage: bool) -> impl Fn() -> Box<dyn Under> {
    move || Box::new(StreamTranslator::new(kind, &ctx(include_usage), "m")) as Box<dyn Under>
}

fn to_anthropic(kind: ProviderKind) -> impl Fn() -> Box<dyn Under> {
    move || {
        let c: TranslateCtx<'static> = ctx(true);
        let inner = StreamTranslator::new(kind, &c, "m");
        Box::new(ToAnthropic::new(inner, &c, "m")) as Box<dyn Under>
    }
}

/// The re-spacer changes bytes, never values, and keeps one line per event.
#[test]
fn respacer_keeps_values() {
    let line = OPENAI_ERROR.lines().nth(2).unwrap();
    let json = line.strip_prefix("data: ").unwrap();
    let spaced = respace(json.as_bytes(), &mut Rng(7));
    assert_ne!(spaced, json.as_bytes());
    assert!(!spaced.contains(&b'\n'));
    let a: Value = serde_json::from_str(json).unwrap();
    let b: Value = serde_json::from_slice(&spaced).unwrap();
    assert_eq!(a, b);
}

/// The observed bug: with `"content": "Hi"` the pass-through saw no output until the finish
/// chunk, so the whole stream was buffered before the first byte reached the client.
#[test]
fn python_style_json_reports_output_at_the_first_token() {
    let stream = "data: {\"id\": \"c\", \"choices\": [{\"index\": 0, \"delta\": {\"role\": \"assistant\", \"content\": \"\"}, \"finish_reason\": null}]}\n\ndata: {\"id\": \"c\", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"Hi\"}, \"finish_reason\": null}]}\n\n";
    let at = timeline(
        &translator(ProviderKind::OpenAi, false),
        stream.as_bytes(),
        b"\n\n",
    );
    assert_eq!(at, [false, false, true]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn openai_pass_through(seed in any::<u64>(), usage in any::<bool>(), cuts in proptest::collection::vec(any::<usize>(), 0..16)) {
        let k = ProviderKind::OpenAi;
        for input in [OPENAI_TEXT, OPENAI_TOOLS, OPENAI_ERROR] {
            assert_same(&translator(k, usage), input, b"\n\n", seed, &cuts)?;
        }
        // A stream without `[DONE]` completes on its finish chunk.
        let no_done = OPENAI_TEXT.replace("data: [DONE]\n\n", "");
        assert_same(&translator(k, usage), &no_done, b"\n\n", seed, &cuts)?;
    }

    #[test]
    fn azure_filter_chunks(seed in any::<u64>(), usage in any::<bool>(), cuts in proptest::collection::vec(any::<usize>(), 0..16)) {
        let input = format!("{AZURE_FILTER}{OPENAI_TEXT}");
        assert_same(&translator(ProviderKind::Azure, usage), &input, b"\n\n", seed, &cuts)?;
        let compact = run(translator(ProviderKind::Azure, usage)(), input.as_bytes(), &[], b"\n\n");
        prop_assert!(compact.frames.iter().all(|(_, d)| match d {
            Data::Json(v) => v["choices"].as_array().is_some_and(|c| !c.is_empty()) || v.get("usage").is_some(),
            Data::Text(t) => t == "[DONE]",
        }), "filter chunk dropped");
    }

    #[test]
    fn serde_kinds(seed in any::<u64>(), cuts in proptest::collection::vec(any::<usize>(), 0..16)) {
        let sse: [(ProviderKind, &str); 7] = [
            (ProviderKind::Anthropic, include_str!("../../tests/fixtures/anthropic/text.sse")),
            (ProviderKind::Anthropic, include_str!("../../tests/fixtures/anthropic/tool_use.sse")),
            (ProviderKind::Gemini, include_str!("../../tests/fixtures/gemini/text.sse")),
            (ProviderKind::Gemini, include_str!("../../tests/fixtures/gemini/tool_call.sse")),
            (ProviderKind::Cohere, include_str!("../../tests/fixtures/cohere/text.sse")),
            (ProviderKind::Cohere, include_str!("../../tests/fixtures/cohere/tool_calls.sse")),
            (ProviderKind::Cohere, include_str!("../../tests/fixtures/cohere/error.sse")),
        ];
        for (kind, input) in sse {
            assert_same(&translator(kind, true), input, b"\n\n", seed, &cuts)?;
        }
        for input in [
            include_str!("../../tests/fixtures/ollama/text.ndjson"),
            include_str!("../../tests/fixtures/ollama/tool_call.ndjson"),
            include_str!("../../tests/fixtures/ollama/error.ndjson"),
        ] {
            assert_same(&translator(ProviderKind::Ollama, true), input, b"\n", seed, &cuts)?;
        }
    }

    #[test]
    fn openai_to_anthropic_messages(seed in any::<u64>(), cuts in proptest::collection::vec(any::<usize>(), 0..16)) {
        for input in [OPENAI_TEXT, OPENAI_TOOLS] {
            assert_same(&to_anthropic(ProviderKind::OpenAi), input, b"\n\n", seed, &cuts)?;
        }
    }
}
