//! The admin listener end to end over a real TCP connection: token gate, body reading with
//! its cap, and the keys API behind it.

use crate::admin::{AdminApp, MAX_BODY};
use crate::keys::{KeyDirectory, KeyStore, KeysAdmin};
use crate::secret::Secret;
use pingora::apps::HttpServerApp;
use pingora::protocols::http::ServerSession;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends `request` (raw HTTP/1.1, `Connection: close`) to `app`; (status, body).
async fn exchange(app: &Arc<AdminApp>, request: Vec<u8>) -> (u16, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = tokio::spawn(async move {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        // The server may answer (413) and close before reading everything.
        let _ = c.write_all(&request).await;
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    });
    let (server, _) = listener.accept().await.unwrap();
    let session = ServerSession::new_http1(Box::new(pingora::protocols::l4::stream::Stream::from(
        server,
    )));
    let (_tx, shutdown) = tokio::sync::watch::channel(false);
    let _ = app.process_new_http(session, &shutdown).await;
    let text = client.await.unwrap();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn request(method: &str, path: &str, token: Option<&str>, body: &str) -> Vec<u8> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn app(token: Option<&str>) -> Arc<AdminApp> {
    let d = Arc::new(KeyDirectory::new(b"http test"));
    Arc::new(AdminApp {
        ledger_reader: Arc::new(crate::ledger::query::ReaderCell::new(
            crate::ledger::LedgerTarget::Off,
        )),
        in_flight: crate::lifecycle::InFlight::default(),
        admin_token: token.map(|t| Secret::new(t.into())),
        keys: Arc::new(KeysAdmin::new(d, Arc::new(KeyStore::memory()))),
    })
}

#[tokio::test]
async fn token_gate_and_body() {
    let disabled = app(None);
    let (status, body) = exchange(&disabled, request("GET", "/admin/keys", Some("x"), "")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("admin.token"), "{body}");
    let (status, _) = exchange(&disabled, request("GET", "/healthz", None, "")).await;
    assert_eq!(status, 200, "healthz needs no token");

    let a = app(Some("tok-123"));
    let (status, body) = exchange(&a, request("GET", "/admin/keys", None, "")).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"type\":\"authentication_error\""), "{body}");
    let (status, _) = exchange(&a, request("GET", "/admin/keys", Some("tok-12"), "")).await;
    assert_eq!(status, 401);

    let (status, created) = exchange(
        &a,
        request(
            "POST",
            "/admin/keys",
            Some("tok-123"),
            r#"{"name":"over http"}"#,
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(created.contains("\"key\":\"sy-"), "{created}");
    let (status, list) = exchange(&a, request("GET", "/admin/keys", Some("tok-123"), "")).await;
    assert_eq!(status, 200);
    assert!(list.contains("over http"), "{list}");

    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(MAX_BODY));
    let (status, body) = exchange(&a, request("POST", "/admin/keys", Some("tok-123"), &big)).await;
    assert_eq!(status, 413, "{body}");
    let (status, _) = exchange(&a, request("GET", "/admin/usage", Some("tok-123"), "")).await;
    assert_eq!(status, 404);
}
