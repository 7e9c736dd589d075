//! The admin keys API: create → authenticate → revoke → 401, rotate, config keys, errors.

use super::bearer;
use crate::admin::{AdminApp, AdminRequest};
use crate::keys::record::{KeyRecord, KeySource};
use crate::keys::{KeyDirectory, KeyStore, KeysAdmin};
use crate::secret::Secret;
use bytes::Bytes;
use serde_json::Value;
use std::sync::Arc;
use std::time::SystemTime;

const CONFIG_KEY: &str = "sk-config-key-123456";

/// Sends one request to `admin`; (status, JSON body).
pub(super) async fn call(admin: &KeysAdmin, method: &str, path: &str, body: &str) -> (u16, Value) {
    let req = AdminRequest {
        method: method.parse().unwrap(),
        path: path.to_string(),
        query: None,
        body: Bytes::from(body.to_string()),
    };
    let r = admin.handle(&req).await.expect("path is under /admin/keys");
    assert_eq!(r.content_type, "application/json");
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn setup() -> (Arc<KeyDirectory>, KeysAdmin) {
    let d = Arc::new(KeyDirectory::new(b"admin test secret"));
    let mut cfg = KeyRecord::new("ci bot", "ci bot", KeySource::Config, SystemTime::now());
    cfg.hint = crate::keys::record::hint(CONFIG_KEY);
    d.set_config_keys(vec![(Secret::new(CONFIG_KEY.into()), cfg)]);
    let admin = KeysAdmin::new(d.clone(), Arc::new(KeyStore::memory()));
    (d, admin)
}

fn error_of(v: &Value) -> (&str, &str, &Value) {
    let e = &v["error"];
    assert!(e.get("code").is_some() && e.get("type").is_some(), "{v}");
    (
        e["message"].as_str().unwrap(),
        e["type"].as_str().unwrap(),
        &e["param"],
    )
}

#[tokio::test]
async fn create_authenticate_revoke() {
    let (d, admin) = setup();
    let (status, created) = call(
        &admin,
        "POST",
        "/admin/keys",
        r#"{"name":"ci","team":"research","models":["gpt-4o*"],"budget":{"daily":2.5}}"#,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("sy-") && key.len() == 46, "{key}");
    assert!(id.starts_with("key_") && id.len() == 20, "{id}");
    assert_eq!(created["hint"], format!("{}…{}", &key[..7], &key[42..]));
    assert_eq!(created["budget"]["daily"], 2.5);
    assert_eq!(created["source"], "api");

    let p = d.authenticate(&bearer(&key)).unwrap();
    assert_eq!(p.id(), id);
    assert_eq!(p.team(), Some("research"));
    assert_eq!(p.key.limits.budget.daily_micros, Some(2_500_000));
    assert!(p.key.allows_model("gpt-4o-mini") && !p.key.allows_model("o1"));

    let (status, one) = call(&admin, "GET", &format!("/admin/keys/{id}"), "").await;
    assert_eq!((status, one["name"].as_str()), (200, Some("ci")));
    assert!(one.get("key").is_none(), "the key is shown once");

    let (status, list) = call(&admin, "GET", "/admin/keys/", "").await;
    assert_eq!(status, 200);
    let data = list["data"].as_array().unwrap();
    let sources: Vec<(&str, &str)> = data
        .iter()
        .map(|k| (k["id"].as_str().unwrap(), k["source"].as_str().unwrap()))
        .collect();
    assert_eq!(sources, [("ci bot", "config"), (id.as_str(), "api")]);
    let text = list.to_string();
    assert!(!text.contains(&key) && !text.contains(CONFIG_KEY) && !text.contains("digest"));

    let (status, revoked) = call(&admin, "DELETE", &format!("/admin/keys/{id}"), "").await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked_at"].is_string());
    let e = d.authenticate(&bearer(&key)).unwrap_err();
    assert_eq!(e.status, 401);
    assert!(e.message.contains("revoked"), "{}", e.message);

    let (status, again) = call(&admin, "DELETE", &format!("/admin/keys/{id}"), "").await;
    assert_eq!(
        (status, &again["revoked_at"]),
        (200, &revoked["revoked_at"]),
        "idempotent"
    );
    let (status, v) = call(&admin, "POST", &format!("/admin/keys/{id}/rotate"), "").await;
    assert_eq!(status, 409);
    assert!(error_of(&v).0.contains("revoked"), "{v}");
}

#[tokio::test]
async fn rotate_keeps_the_id() {
    let (d, admin) = setup();
    let (_, created) = call(&admin, "POST", "/admin/keys", r#"{"name":"svc"}"#).await;
    let old = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    let (status, rotated) = call(&admin, "POST", &format!("/admin/keys/{id}/rotate"), "").await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["key"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(rotated["id"], id.as_str());
    assert_ne!(rotated["hint"], created["hint"]);
    assert!(
        d.authenticate(&bearer(&old)).is_err(),
        "old key stops working"
    );
    assert_eq!(d.authenticate(&bearer(new)).unwrap().id(), id);
}

#[tokio::test]
async fn config_keys_are_changed_in_the_file() {
    let (d, admin) = setup();
    for (method, path) in [
        ("DELETE", "/admin/keys/ci%20bot"),
        ("POST", "/admin/keys/ci%20bot/rotate"),
    ] {
        let (status, v) = call(&admin, method, path, "").await;
        assert_eq!(status, 409, "{method} {path}");
        assert_eq!(
            error_of(&v).0,
            "key 'ci bot' is defined in the config file; change it there"
        );
    }
    assert!(d.authenticate(&bearer(CONFIG_KEY)).is_ok());
    let (status, v) = call(&admin, "GET", "/admin/keys/ci%20bot", "").await;
    assert_eq!((status, v["source"].as_str()), (200, Some("config")));
}

#[tokio::test]
async fn errors_are_openai_shaped() {
    let (_, admin) = setup();
    for (method, path, body, status, needle) in [
        (
            "GET",
            "/admin/keys/key_nope",
            "",
            404,
            "no key with id 'key_nope'",
        ),
        ("DELETE", "/admin/keys/key_nope", "", 404, "key_nope"),
        ("POST", "/admin/keys/key_nope/rotate", "", 404, "key_nope"),
        ("GET", "/admin/keys/a/b", "", 404, "not found"),
        ("PUT", "/admin/keys", "", 405, "GET, POST"),
        ("POST", "/admin/keys/x", "", 405, "GET, DELETE"),
        ("GET", "/admin/keys/x/rotate", "", 405, "POST"),
        (
            "POST",
            "/admin/keys",
            r#"{"name":"a","rpm":-3}"#,
            400,
            "rpm",
        ),
        ("POST", "/admin/keys", "{", 400, "invalid request body"),
    ] {
        let (got, v) = call(&admin, method, path, body).await;
        assert_eq!(got, status, "{method} {path}: {v}");
        let (message, _, _) = error_of(&v);
        assert!(message.contains(needle), "{method} {path}: {message}");
    }
    let (_, v) = call(
        &admin,
        "POST",
        "/admin/keys",
        r#"{"name":"a","budget":{"daily":-1}}"#,
    )
    .await;
    assert_eq!(error_of(&v).2, "budget.daily");
}

#[tokio::test]
async fn other_paths_are_not_claimed() {
    let (_, admin) = setup();
    for path in ["/admin/keysx", "/admin/usage", "/metrics"] {
        let req = AdminRequest {
            method: http::Method::GET,
            path: path.into(),
            query: None,
            body: Bytes::new(),
        };
        assert!(admin.handle(&req).await.is_none(), "{path}");
    }
    // The app answers paths no admin API claims with a 404.
    let app = AdminApp {
        ledger_reader: Arc::new(crate::ledger::query::ReaderCell::new(
            crate::ledger::LedgerTarget::Off,
        )),
        in_flight: crate::lifecycle::InFlight::default(),
        admin_token: Some(Secret::new("t".into())),
        keys: Arc::new(admin),
    };
    let req = AdminRequest {
        method: http::Method::GET,
        path: "/admin/usage".into(),
        query: None,
        body: Bytes::new(),
    };
    assert_eq!(app.route(&req).await.status, 404);
    let req = AdminRequest {
        path: "/admin/keys".into(),
        ..req
    };
    assert_eq!(app.route(&req).await.status, 200);
}
