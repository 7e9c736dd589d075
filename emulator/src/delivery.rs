//! Writing answers: exact `Content-Length` bodies, and chunked SSE with delays, byte splits, drops and in-band errors.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession;

/// What to do with the connection once the answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The response is complete; the connection can serve the next request.
    KeepAlive,
    /// Close the connection abruptly (deliberate drop, or the client went away).
    Close,
}

/// Status line and headers of an answer.
#[derive(Debug, Clone)]
pub struct Head {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    /// Sleep this long before writing the header (`ttfb_ms`).
    pub ttfb_ms: u64,
}

impl Head {
    pub fn json(status: u16) -> Self {
        Self {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            ttfb_ms: 0,
        }
    }
}

/// How to pace and break a streamed answer.
#[derive(Debug, Clone, Default)]
pub struct StreamFaults {
    pub chunk_ms: u64,
    pub split: Option<usize>,
    pub drop_after: Option<usize>,
    pub error_after: Option<usize>,
    /// The provider's in-band error event, sent by `error_after`.
    pub error_event: Bytes,
}

async fn sleep_ms(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

async fn write_head(s: &mut ServerSession, head: &Head, len: Option<usize>) -> bool {
    sleep_ms(head.ttfb_ms).await;
    let build = || -> pingora::Result<ResponseHeader> {
        let mut h = ResponseHeader::build(head.status, Some(head.headers.len() + 3))?;
        h.insert_header("content-type", head.content_type)?;
        match len {
            Some(n) => h.insert_header("content-length", n.to_string())?,
            None => {
                h.insert_header("transfer-encoding", "chunked")?;
                h.insert_header("cache-control", "no-cache")?;
            }
        }
        for (k, v) in &head.headers {
            h.insert_header(*k, v.as_str())?;
        }
        Ok(h)
    };
    match build() {
        Ok(h) => s.write_response_header(Box::new(h)).await.is_ok(),
        Err(_) => false,
    }
}

/// A complete body with its exact `Content-Length`; `drop_after=N` sends only N bytes and closes.
pub async fn send_full(
    s: &mut ServerSession,
    head: &Head,
    body: Bytes,
    drop_after: Option<usize>,
) -> Outcome {
    if !write_head(s, head, Some(body.len())).await {
        return Outcome::Close;
    }
    if let Some(n) = drop_after.filter(|n| *n < body.len()) {
        // The stream flushes its write buffer when it is shut down, so these bytes do arrive.
        let _ = s.write_response_body(body.slice(..n), false).await;
        return Outcome::Close;
    }
    match s.write_response_body(body, true).await {
        Ok(()) => Outcome::KeepAlive,
        Err(_) => Outcome::Close,
    }
}

/// Writes events either whole or re-cut into pieces of exactly `size` bytes.
struct Splitter {
    size: Option<usize>,
    carry: BytesMut,
}

impl Splitter {
    async fn push(&mut self, s: &mut ServerSession, ev: Bytes) -> pingora::Result<()> {
        let Some(n) = self.size else {
            return s.write_response_body(ev, false).await;
        };
        self.carry.extend_from_slice(&ev);
        while self.carry.len() >= n {
            let piece = self.carry.split_to(n).freeze();
            s.write_response_body(piece, false).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, s: &mut ServerSession) -> pingora::Result<()> {
        if self.carry.is_empty() {
            return Ok(());
        }
        let rest = self.carry.split().freeze();
        s.write_response_body(rest, false).await
    }
}

/// A chunked SSE body, one write (and flush) per event unless `split` re-cuts it.
pub async fn send_sse(
    s: &mut ServerSession,
    head: &Head,
    events: Vec<Bytes>,
    f: &StreamFaults,
) -> Outcome {
    if !write_head(s, head, None).await {
        return Outcome::Close;
    }
    let mut out = Splitter {
        size: f.split,
        carry: BytesMut::new(),
    };
    let total = events.len();
    let error_at = f.error_after.map(|n| n.min(total));
    let drop_at = f.drop_after.map(|n| n.min(total));
    let mut events = events.into_iter();
    for i in 0..=total {
        if i > 0 && i < total && f.chunk_ms > 0 {
            sleep_ms(f.chunk_ms).await;
        }
        if error_at == Some(i) {
            if i > 0 && i == total {
                sleep_ms(f.chunk_ms).await;
            }
            if out.push(s, f.error_event.clone()).await.is_err() {
                return Outcome::Close;
            }
            break;
        }
        if drop_at == Some(i) {
            let _ = out.flush(s).await;
            return Outcome::Close;
        }
        let Some(ev) = events.next() else { break };
        if out.push(s, ev).await.is_err() {
            return Outcome::Close;
        }
    }
    if out.flush(s).await.is_err() {
        return Outcome::Close;
    }
    match s.write_response_body(Bytes::new(), true).await {
        Ok(()) => Outcome::KeepAlive,
        Err(_) => Outcome::Close,
    }
}
