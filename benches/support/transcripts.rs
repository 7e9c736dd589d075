//! Real provider stream transcripts (the golden files under `tests/fixtures/`) cut into
//! one chunk per upstream event, as a network read delivering one event at a time would.
//! Shared by `benches/stream.rs` and `tests/it/alloc.rs` (included with `#[path]`).

use switchyard::config::ProviderKind;
use switchyard::providers::TranslateCtx;

/// A transcript of one provider kind.
pub struct Transcript {
    pub kind: ProviderKind,
    /// Short label for benchmark ids.
    pub label: &'static str,
    pub bytes: &'static [u8],
}

/// The transcripts benchmarked: a plain text answer and a tool call per kind.
pub const TRANSCRIPTS: &[Transcript] = &[
    Transcript {
        kind: ProviderKind::OpenAi,
        label: "openai/text",
        bytes: include_bytes!("../../tests/fixtures/openai/text.sse"),
    },
    Transcript {
        kind: ProviderKind::OpenAi,
        label: "openai/tools",
        bytes: include_bytes!("../../tests/fixtures/openai/parallel_tools.sse"),
    },
    Transcript {
        kind: ProviderKind::Anthropic,
        label: "anthropic/text",
        bytes: include_bytes!("../../tests/fixtures/anthropic/text.sse"),
    },
    Transcript {
        kind: ProviderKind::Anthropic,
        label: "anthropic/tools",
        bytes: include_bytes!("../../tests/fixtures/anthropic/tool_use.sse"),
    },
    Transcript {
        kind: ProviderKind::Gemini,
        label: "gemini/text",
        bytes: include_bytes!("../../tests/fixtures/gemini/text.sse"),
    },
    Transcript {
        kind: ProviderKind::Gemini,
        label: "gemini/tools",
        bytes: include_bytes!("../../tests/fixtures/gemini/tool_call.sse"),
    },
    Transcript {
        kind: ProviderKind::Bedrock,
        label: "bedrock/text",
        bytes: include_bytes!("../../tests/fixtures/bedrock/text.eventstream"),
    },
    Transcript {
        kind: ProviderKind::Bedrock,
        label: "bedrock/tools",
        bytes: include_bytes!("../../tests/fixtures/bedrock/tool_use.eventstream"),
    },
];

/// The transcript labelled `label`.
pub fn transcript(label: &str) -> &'static Transcript {
    TRANSCRIPTS
        .iter()
        .find(|t| t.label == label)
        .expect("a known transcript label")
}

impl Transcript {
    /// The transcript cut after every event.
    pub fn events(&self) -> Vec<&'static [u8]> {
        split_events(self.kind, self.bytes)
    }
}

/// Per-request context as the proxy builds it (usage requested, as SDKs usually do).
pub fn ctx() -> TranslateCtx<'static> {
    TranslateCtx {
        provider: "bench",
        request_id: "req-0123456789abcdef",
        created: 1_700_000_000,
        include_usage: true,
        format: None,
        tool_answer: false,
    }
}

/// The model the gateway asked the provider for.
pub const UPSTREAM_MODEL: &str = "bench-model";

/// Cuts a byte stream of `kind` into one slice per event: AWS event-stream frames for
/// Bedrock, SSE events (ending with a blank line, `\n` or `\r\n` line ends) otherwise.
pub fn split_events(kind: ProviderKind, bytes: &[u8]) -> Vec<&[u8]> {
    match kind {
        ProviderKind::Bedrock => split_frames(bytes),
        _ => split_sse(bytes),
    }
}

/// SSE events: each ends after the empty line that terminates it.
fn split_sse(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut line_start) = (0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        let line = &bytes[line_start..i];
        if (line.is_empty() || line == b"\r") && line_start > start {
            out.push(&bytes[start..=i]);
            start = i + 1;
        }
        line_start = i + 1;
    }
    if start < bytes.len() {
        out.push(&bytes[start..]);
    }
    out
}

/// AWS event-stream frames: each starts with its total length (big-endian `u32`).
fn split_frames(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let len = len.clamp(4, rest.len());
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Steady state of a text answer: the events before the first content delta of the kind's
/// text transcript (the preamble), and that content-delta event, which a long answer repeats.
pub struct Steady {
    pub kind: ProviderKind,
    pub label: &'static str,
    pub preamble: Vec<&'static [u8]>,
    pub delta: &'static [u8],
}

/// The steady-state content delta of each benchmarked kind.
pub fn steady_states() -> Vec<Steady> {
    // (transcript, a byte string found only in its content-delta events)
    let picks: [(&str, &[u8]); 4] = [
        ("openai/text", br#""delta":{"content":"Hello"}"#),
        ("anthropic/text", b"text_delta"),
        ("gemini/text", br#""text": "Hello""#),
        ("bedrock/text", b"contentBlockDelta"),
    ];
    picks
        .into_iter()
        .map(|(label, marker)| {
            let t = transcript(label);
            let events = t.events();
            let at = events
                .iter()
                .position(|e| e.windows(marker.len()).any(|w| w == marker))
                .expect("the text transcript has a content delta");
            Steady {
                kind: t.kind,
                label: t.label.split('/').next().unwrap_or(t.label),
                preamble: events[..at].to_vec(),
                delta: events[at],
            }
        })
        .collect()
}
