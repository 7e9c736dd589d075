//! Anthropic SSE framing: `event: <type>\ndata: <json>\n\n`, written straight into the
//! caller's buffer (a token costs one escaped string and a few copies).

use bytes::{BufMut, BytesMut};

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut BytesMut, s: &str) {
    let mut w = out.writer();
    // Writing a &str into a buffer cannot fail.
    let _ = serde_json::to_writer(&mut w, s);
}

/// Opens an event: `event: <kind>\ndata: ` (the caller writes the JSON and calls [`close`]).
pub fn open(out: &mut BytesMut, kind: &str) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: ");
}

/// Ends an event.
pub fn close(out: &mut BytesMut) {
    out.extend_from_slice(b"\n\n");
}

/// A whole event whose data is already JSON.
pub fn event(out: &mut BytesMut, kind: &str, data: &[u8]) {
    open(out, kind);
    out.extend_from_slice(data);
    close(out);
}

/// `content_block_delta` of block `index` with delta `{"type":<kind>,<field>:<text>}`.
pub fn delta(out: &mut BytesMut, index: u32, kind: &str, field: &str, text: &str) {
    open(out, "content_block_delta");
    out.extend_from_slice(br#"{"type":"content_block_delta","index":"#);
    out.extend_from_slice(index.to_string().as_bytes());
    out.extend_from_slice(br#","delta":{"type":""#);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"");
    out.extend_from_slice(field.as_bytes());
    out.extend_from_slice(b"\":");
    push_str(out, text);
    out.extend_from_slice(b"}}");
    close(out);
}

/// `content_block_start` of block `index` with the given `content_block` JSON.
pub fn block_start(out: &mut BytesMut, index: u32, block: &[u8]) {
    open(out, "content_block_start");
    out.extend_from_slice(br#"{"type":"content_block_start","index":"#);
    out.extend_from_slice(index.to_string().as_bytes());
    out.extend_from_slice(br#","content_block":"#);
    out.extend_from_slice(block);
    out.extend_from_slice(b"}");
    close(out);
}

/// `content_block_stop` of block `index`.
pub fn block_stop(out: &mut BytesMut, index: u32) {
    open(out, "content_block_stop");
    out.extend_from_slice(br#"{"type":"content_block_stop","index":"#);
    out.extend_from_slice(index.to_string().as_bytes());
    out.extend_from_slice(b"}");
    close(out);
}
