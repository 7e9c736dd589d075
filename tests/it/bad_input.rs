//! Every bad input gets a clear OpenAI-shaped error, and the gateway keeps serving.

use crate::common;

use crate::common::{Emulator, Gateway, KEY, post};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn auth() -> (&'static str, String) {
    ("authorization", format!("Bearer {KEY}"))
}

fn gateway(emu: &Emulator) -> Gateway {
    let (yaml, port, admin) = common::config(emu, common::ROUTES, ", max_body_bytes: 4096");
    Gateway::start(&yaml, port, admin)
}

/// Writes raw bytes and returns whatever the gateway answers until it closes or goes quiet.
fn raw(gw: &Gateway, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&out).contains("\r\n\r\n{") && out.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Malformed or incomplete requests are 400/404 with the parameter named.
#[test]
fn request_validation() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    let (k, v) = auth();
    let url = gw.url("/v1/chat/completions");
    let cases: &[(&str, u16, Option<&str>)] = &[
        ("{", 400, None),
        ("", 400, None),
        ("[1,2]", 400, None),
        ("\"just a string\"", 400, None),
        (
            r#"{"messages":[{"role":"user","content":"x"}]}"#,
            400,
            Some("model"),
        ),
        (r#"{"model":"claude"}"#, 400, Some("messages")),
        (r#"{"model":"claude","messages":[]}"#, 400, Some("messages")),
        (
            r#"{"model":"claude","messages":"hi"}"#,
            400,
            Some("messages"),
        ),
        (r#"{"model":42,"messages":[]}"#, 400, Some("model")),
        (
            r#"{"model":"claude","messages":[{"role":"user","content":"x"}],"temperature":5}"#,
            400,
            Some("temperature"),
        ),
        (
            r#"{"model":"claude","messages":[{"role":"wizard","content":"x"}]}"#,
            400,
            Some("messages[0].role"),
        ),
        (
            r#"{"model":"claude","messages":[{"role":"user","content":"x"}],"n":3}"#,
            400,
            Some("n"),
        ),
        (
            r#"{"model":"unknown-model","messages":[{"role":"user","content":"x"}]}"#,
            404,
            Some("model"),
        ),
    ];
    for (body, status, param) in cases {
        let r = post(&url, body, &[(k, &v)]);
        assert_eq!(r.status, *status, "{body}: {}", r.body);
        let e = r.error();
        assert_eq!(e["param"].as_str(), *param, "{body}: {e}");
    }
    let r = post(
        &url,
        "{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":\"\u{fffd}\"}]}",
        &[(k, &v)],
    );
    assert_eq!(r.status, 200, "replacement characters are fine: {}", r.body);
}

/// Missing, unknown or malformed keys are 401 with the OpenAI invalid_api_key code.
#[test]
fn authentication() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    let url = gw.url("/v1/chat/completions");
    let body =
        json!({"model": "claude", "messages": [{"role": "user", "content": "x"}]}).to_string();
    for headers in [
        vec![],
        vec![("authorization", "Bearer sk-wrong-key-000")],
        vec![("authorization", "Basic dXNlcjpwYXNz")],
        vec![("authorization", "Bearer")],
    ] {
        let r = post(&url, &body, &headers);
        assert_eq!(r.status, 401, "{headers:?}");
        assert_eq!(r.error()["code"], "invalid_api_key");
    }
    let r = common::get(&gw.url("/v1/models"), &[]);
    assert_eq!(r.status, 401);
    let r = post(&url, &body, &[("x-api-key", KEY)]);
    assert_eq!(r.status, 200, "x-api-key is accepted too");
}

/// Wrong methods are 405 with Allow; unknown paths 404; both OpenAI-shaped.
#[test]
fn methods_and_paths() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    let (k, v) = auth();
    let r = common::get(&gw.url("/v1/chat/completions"), &[(k, &v)]);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    r.error();
    let r = post(&gw.url("/v1/models"), "{}", &[(k, &v)]);
    assert_eq!(r.status, 405);
    let r = post(&gw.url("/v1/nope"), "{}", &[(k, &v)]);
    assert_eq!(r.status, 404);
    r.error();
}

/// Bodies over the limit are 413, by Content-Length or while streaming in chunks.
#[test]
fn body_limit() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    let (k, v) = auth();
    let big =
        json!({"model": "claude", "messages": [{"role": "user", "content": "x".repeat(5000)}]})
            .to_string();
    let r = post(&gw.url("/v1/chat/completions"), &big, &[(k, &v)]);
    assert_eq!(r.status, 413);
    assert_eq!(r.error()["code"], "request_too_large");
    let mut chunked = format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
    for _ in 0..10 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 1000, "a".repeat(1000)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let out = raw(&gw, &chunked);
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert!(out.contains("request_too_large"), "{out}");
    // Still serving.
    let ok = gw.chat(&json!({"model": "claude", "messages": [{"role": "user", "content": "x"}]}));
    assert_eq!(ok.status, 200);
}

/// `Expect: 100-continue` (curl's default for large bodies) is honoured.
#[test]
fn expect_continue() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    let body =
        json!({"model": "claude", "messages": [{"role": "user", "content": "hi"}]}).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n", body.len()).unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    s.write_all(body.as_bytes()).unwrap();
    let mut out = vec![0u8; 8192];
    let n = s.read(&mut out).unwrap();
    assert!(String::from_utf8_lossy(&out[..n]).starts_with("HTTP/1.1 200"));
}

/// Garbage on the wire is answered or dropped without affecting other clients.
#[test]
fn garbage_does_not_hurt() {
    let emu = Emulator::start();
    let gw = gateway(&emu);
    for junk in [&b"\x00\x01\x02garbage\r\n\r\n"[..], b"GET / HTTP/9.9\r\n\r\n", b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: abc\r\n\r\n", b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"] {
        let _ = raw(&gw, junk);
    }
    let mut invalid_utf8 = format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: 2\r\n\r\n").into_bytes();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe]);
    let out = raw(&gw, &invalid_utf8);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    let ok = gw.chat(&json!({"model": "gpt", "messages": [{"role": "user", "content": "x"}]}));
    assert_eq!(ok.status, 200);
}
