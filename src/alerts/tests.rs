//! Threshold crossing, webhook URLs, and delivery against a local HTTP server (retry on a
//! 500, give up after two retries or on a 4xx, unreachable receiver, full queue).

use super::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

#[test]
fn thresholds_crossed() {
    let t = [50, 80, 100];
    // Limit $10: 50 % is $5, 80 % is $8, 100 % is $10.
    assert_eq!(crossed(10_000_000, 0, 4_999_999, &t), Vec::<u8>::new());
    assert_eq!(
        crossed(10_000_000, 0, 5_000_000, &t),
        vec![50],
        "reaching is crossing"
    );
    assert_eq!(
        crossed(10_000_000, 5_000_000, 5_000_001, &t),
        Vec::<u8>::new(),
        "once"
    );
    assert_eq!(
        crossed(10_000_000, 4_000_000, 12_000_000, &t),
        vec![50, 80, 100]
    );
    assert_eq!(
        crossed(10_000_000, 9_000_000, 10_000_000, &[100, 80, 100]),
        vec![100]
    );
    assert_eq!(
        crossed(10_000_000, 12_000_000, 13_000_000, &t),
        Vec::<u8>::new()
    );
    assert_eq!(
        crossed(0, 0, 1_000, &t),
        Vec::<u8>::new(),
        "no limit, no alert"
    );
    assert_eq!(crossed(1_000, 0, 1_000, &[0]), Vec::<u8>::new());
    assert_eq!(
        crossed(3, 1, 2, &[50]),
        vec![50],
        "exact: 1.5 micro-dollars"
    );
    assert_eq!(
        crossed(u64::MAX, 0, u64::MAX, &[100, 200]),
        vec![100],
        "no overflow"
    );
    assert_eq!(crossed(10, 10, 20, &[200]), vec![200], "over 100 %");
}

fn alert() -> BudgetAlert {
    BudgetAlert {
        scope: Scope::Team,
        id: "search".into(),
        budget: Budget::Daily,
        window: "2026-11-26".into(),
        threshold_percent: 80,
        limit_micros: 10_000_000,
        spent_micros: 8_000_001,
        ts: humantime::parse_rfc3339("2026-11-26T10:00:00Z").unwrap(),
    }
}

#[test]
fn urls() {
    assert_eq!(
        endpoint("https://hooks.example.com/services/T0/B0/secret").unwrap(),
        "https://hooks.example.com"
    );
    assert_eq!(
        endpoint("http://127.0.0.1:9/x?token=s").unwrap(),
        "http://127.0.0.1:9"
    );
    for bad in [
        "ftp://x/tok3n",
        "hooks.example.com/tok3n",
        "tok3n",
        "https:///tok3n",
        "http://ho st/tok3n",
    ] {
        let e = Alerts::new(bad).unwrap_err();
        assert!(!e.contains("tok3n"), "{e}");
    }
}

/// A one-thread HTTP server answering each request with the next status of `statuses`
/// (then 200); it hands back each request body.
fn server(statuses: Vec<u16>) -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            assert!(head.starts_with("POST /hook?token=t HTTP/1.1"), "{head}");
            assert!(
                head.to_ascii_lowercase()
                    .contains("content-type: application/json")
            );
            // Handed over before answering, so a finished client has all bodies queued.
            if tx.send(String::from_utf8(body).unwrap()).is_err() {
                return;
            }
            let status = statuses.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (format!("http://{addr}/hook?token=t"), rx)
}

/// The tests below compare counter deltas: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn count(outcome: &str) -> u64 {
    ALERTS.with_label_values(&[outcome]).get()
}

fn wait(rx: &std::sync::mpsc::Receiver<String>) -> serde_json::Value {
    let body = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_and_retries_after_a_500() {
    let _serial = SERIAL.lock().await;
    let (url, rx) = server(vec![500]);
    let (alerts, sender) = Alerts::with_backoff(&url, Duration::from_millis(10)).unwrap();
    assert!(!format!("{sender:?}").contains("token"));
    let sender = Arc::new(sender);
    let task = tokio::spawn({
        let sender = sender.clone();
        async move { sender.run(None).await }
    });
    let before = count("sent");
    alerts.notify(alert());
    let first = tokio::task::spawn_blocking(move || (wait(&rx), wait(&rx), rx))
        .await
        .unwrap();
    let (failed_try, retried, rx) = first;
    assert_eq!(failed_try, retried, "the same alert again");
    assert_eq!(
        retried,
        serde_json::json!({
            "type": "budget_threshold",
            "scope": "team",
            "id": "search",
            "budget": "daily",
            "window": "2026-11-26",
            "threshold_percent": 80,
            "limit_usd": 10.0,
            "spent_usd": 8.000001,
            "ts": "2026-11-26T10:00:00.000Z"
        })
    );
    let text = String::from_utf8(alert().to_json().unwrap()).unwrap();
    assert!(
        text.contains(r#""limit_usd":10.000000,"spent_usd":8.000001"#),
        "{text}"
    );
    drop(alerts);
    task.await.unwrap();
    assert_eq!(count("sent") - before, 1);
    assert!(rx.try_recv().is_err(), "no third request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gives_up_after_two_retries_or_a_4xx() {
    let _serial = SERIAL.lock().await;
    let (url, rx) = server(vec![503, 502, 500, 404]);
    let (alerts, sender) = Alerts::with_backoff(&url, Duration::from_millis(5)).unwrap();
    let before = count("failed");
    let task = tokio::spawn(async move { sender.run(None).await });
    alerts.notify(alert());
    alerts.notify(alert());
    drop(alerts);
    task.await.unwrap();
    assert_eq!(
        count("failed") - before,
        2,
        "3 attempts, then 1 (404 is final)"
    );
    assert_eq!(rx.try_iter().count(), 4);
}

#[tokio::test]
async fn unreachable_webhook_and_full_queue() {
    let _serial = SERIAL.lock().await;
    // A port nothing listens on (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (alerts, sender) = Alerts::with_backoff(
        &format!("http://127.0.0.1:{port}/"),
        Duration::from_millis(1),
    )
    .unwrap();
    let (failed, dropped) = (count("failed"), count("dropped"));
    for _ in 0..CHANNEL_CAPACITY + 3 {
        alerts.notify(alert());
    }
    assert_eq!(
        count("dropped") - dropped,
        3,
        "never waits: the rest is dropped"
    );
    drop((alerts, sender));
    // One queued alert for the delivery check.
    let (alerts, sender) = Alerts::with_backoff(
        &format!("http://127.0.0.1:{port}/"),
        Duration::from_millis(1),
    )
    .unwrap();
    alerts.notify(alert());
    drop(alerts);
    sender.run(None).await;
    assert_eq!(count("failed") - failed, 1);
    Alerts::off().notify(alert());
}
