//! Streams through the real gateway, read by a raw client that timestamps every read: an
//! upstream's JSON spelling does not change when the client sees tokens.

use crate::common::{Emulator, Gateway, KEY, config};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What a raw streaming client saw.
pub struct Timed {
    /// The whole HTTP response (head and chunked body, undecoded).
    pub text: String,
    /// When the first chunk with non-empty `content` arrived.
    pub first_token: Option<Duration>,
    /// When the connection closed.
    pub end: Duration,
}

/// Sends a streaming chat request for `model` and reads the response as it arrives; with
/// `hang_up_after_first_token`, closes the connection as soon as the first token arrived.
pub fn stream_timed(port: u16, model: &str, hang_up_after_first_token: bool) -> Timed {
    let body = serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": true,
    })
    .to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut first_token = None;
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if first_token.is_none() && has_token(&String::from_utf8_lossy(&raw)) {
            first_token = Some(started.elapsed());
            if hang_up_after_first_token {
                break;
            }
        }
    }
    Timed {
        text: String::from_utf8_lossy(&raw).into_owned(),
        first_token,
        end: started.elapsed(),
    }
}

/// True when some complete `data:` line is a chunk with non-empty delta content.
fn has_token(text: &str) -> bool {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .any(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        })
}

/// The observed bug: an upstream writing Python-style JSON (`"content": "Hi"`) that takes
/// longer than the first-byte timeout overall was buffered until it finished (or cut by that
/// timeout). It must stream as it is produced, like compact JSON.
#[test]
fn spaced_json_streams_incrementally() {
    let emu = Emulator::start();
    let routes = r#"
providers:
  - { name: emu-openai, kind: openai, base_url: "http://{EMU}/v1", api_key: "k", first_byte_timeout: 1s, stream_idle_timeout: 3s }
routes:
  - { name: spaced, match: { model: "spaced" }, targets: [ { provider: emu-openai, model: "gpt-4o-mini#spaced;chunk_ms=400;tokens=5" } ] }
  - { name: compact, match: { model: "compact" }, targets: [ { provider: emu-openai, model: "gpt-4o-mini#chunk_ms=400;tokens=5" } ] }
"#;
    let (yaml, port, admin) = config(&emu, routes, "");
    let gw = Gateway::start(&yaml, port, admin);
    for model in ["spaced", "compact"] {
        let t = stream_timed(gw.port, model, false);
        assert!(t.text.starts_with("HTTP/1.1 200"), "{model}: {}", t.text);
        assert!(t.text.contains("data: [DONE]"), "{model}: {}", t.text);
        assert!(!t.text.contains("\"error\""), "{model}: {}", t.text);
        let first = t.first_token.expect("a token arrived");
        // Eight 400 ms gaps upstream: the first token comes after one, the end after all.
        assert!(
            first < Duration::from_millis(1000),
            "{model}: first token at {first:?}"
        );
        assert!(
            t.end > first + Duration::from_millis(1500),
            "{model}: first token at {first:?}, end at {:?}",
            t.end
        );
        if model == "spaced" {
            assert!(t.text.contains("\"content\": \""), "{}", t.text);
        }
    }
}
