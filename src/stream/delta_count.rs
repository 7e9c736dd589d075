//! How much generated text reached the client, measured on the events the relay writes.
//!
//! A stream cut before the provider's usage report is billed from this count
//! ([`crate::proxy::observe::partial`]). The events are scanned, not parsed: one pass over
//! their quotes (`memchr`) walks the JSON strings, and the string values of the members that
//! carry generated text are measured in characters — OpenAI chunks' `content`, `reasoning_content`, `reasoning`,
//! `refusal` and tool-call `arguments`; Anthropic events' `text`, `thinking` and
//! `partial_json`. Tokens are estimated as one per four characters (rounded up), the usual
//! rule of thumb for English text and code; the text itself is not kept, so no tokenizer runs
//! and nothing is allocated per event.

use super::json_scan::{escaped, skip_ws};

/// Members whose string values are generated text, in either client format.
const TEXT_KEYS: [&[u8]; 8] = [
    b"content",
    b"reasoning_content",
    b"reasoning",
    b"refusal",
    b"arguments",
    b"text",
    b"thinking",
    b"partial_json",
];

/// Characters of generated text seen so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeltaCount {
    chars: u64,
}

impl DeltaCount {
    /// Adds the generated text of `events` (complete client events, any number, each valid
    /// JSON after its `data: `): every string is visited once, and one that is the value of a
    /// text member is measured.
    pub fn add(&mut self, events: &[u8]) {
        let mut quotes = memchr::memchr_iter(b'"', events);
        let mut text_value_next = false;
        // Outside strings every quote opens one; its end is the next unescaped quote.
        while let Some(open) = quotes.next() {
            let Some(close) = quotes.by_ref().find(|&q| !escaped(events, q)) else {
                return;
            };
            let s = &events[open + 1..close];
            if text_value_next {
                self.chars += chars(s);
                text_value_next = false;
            } else if TEXT_KEYS.contains(&s) {
                let colon = skip_ws(events, close + 1);
                text_value_next = events.get(colon) == Some(&b':')
                    && events.get(skip_ws(events, colon + 1)) == Some(&b'"');
            }
        }
    }

    /// Characters counted.
    pub fn chars(&self) -> u64 {
        self.chars
    }

    /// Estimated tokens: a quarter of the characters, rounded up.
    pub fn tokens(&self) -> u64 {
        self.chars.div_ceil(4)
    }
}

/// Characters of a raw JSON string: UTF-8 lead bytes, not counting escape backslashes (an
/// escape such as `\n` counts one; `\u00e9` counts five, close enough for an estimate).
fn chars(raw: &[u8]) -> u64 {
    let mut n = 0;
    let mut escape = false;
    for &b in raw {
        if escape {
            escape = false;
            n += 1;
        } else if b == b'\\' {
            escape = true;
        } else if b & 0xC0 != 0x80 {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenAI chunks: content, reasoning and tool arguments count; the role preamble, ids,
    /// names and finish reasons do not.
    #[test]
    fn openai_chunks() {
        let mut c = DeltaCount::default();
        c.add(b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n");
        assert_eq!(c.chars(), 0);
        c.add(b"data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"delta\":{\"content\": \"H\\u00e9llo \\\"w\xc3\xa9\\\"\"},\"finish_reason\":null}]}\n\ndata: {\"choices\":[{\"delta\":{\"reasoning_content\":\"ab\"}}]}\n\n");
        // `H`, `\u00e9` (5), `llo `, `\"`, `w`, `é`, `\"`; then `ab`.
        assert_eq!(c.chars(), 14 + 2);
        c.add(b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\"\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n");
        assert_eq!(c.chars(), 16 + 7);
        assert_eq!(c.tokens(), 6);
    }

    /// Anthropic events: text, thinking and tool input deltas count; block types do not.
    #[test]
    fn anthropic_events() {
        let mut c = DeltaCount::default();
        c.add(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"content\":[],\"usage\":{\"input_tokens\":9}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        assert_eq!(c.chars(), 0);
        c.add(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n");
        assert_eq!(c.chars(), 7);
        assert_eq!(c.tokens(), 2);
    }
}
