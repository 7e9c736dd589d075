//! The admin keys API under `/admin/keys` (the admin token was checked by the admin listener):
//!
//! | Method and path | Does |
//! |---|---|
//! | `POST /admin/keys` | create an API key → 201 with the plaintext `key` (shown once) |
//! | `GET /admin/keys` | `{"data": [...]}`: config and API keys |
//! | `GET /admin/keys/{id}` | one key |
//! | `DELETE /admin/keys/{id}` | revoke (the record stays, with `revoked_at`) |
//! | `POST /admin/keys/{id}/rotate` | new plaintext key, same id; the old key stops working |
//!
//! Config keys are listed but can be changed only in the config file (409). Every change is
//! written to the key store first, then applied to this instance's directory at once; other
//! instances pick it up at their next refresh.

use super::api_json::{WithKey, parse_create, view};
use super::directory::{KeyDirectory, StoredKey};
use super::record::{KeyRecord, KeySource, hint};
use super::secret::{new_id, new_key};
use super::store::KeyStore;
use crate::admin_api::{AdminRequest, AdminResponse};
use crate::error::{ErrorKind, GatewayError};
use bytes::Bytes;
use http::Method;
use serde::Serialize;
use std::sync::Arc;
use std::time::SystemTime;

/// Handler of `/admin/keys…`.
pub struct KeysAdmin {
    directory: Arc<KeyDirectory>,
    store: Arc<KeyStore>,
}

type Answer = Result<AdminResponse, GatewayError>;

impl KeysAdmin {
    pub fn new(directory: Arc<KeyDirectory>, store: Arc<KeyStore>) -> Self {
        Self { directory, store }
    }

    /// Answers a request under `/admin/keys`; `None` for any other path.
    pub async fn handle(&self, req: &AdminRequest) -> Option<AdminResponse> {
        let rest = req.path.strip_prefix("/admin/keys")?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let rest = rest.trim_matches('/');
        let mut parts = rest.split('/');
        let (first, second, extra) = (parts.next(), parts.next(), parts.next());
        let m = &req.method;
        let answer = match (first.filter(|s| !s.is_empty()), second, extra) {
            (None, _, _) if m == Method::GET => Ok(self.list()),
            (None, _, _) if m == Method::POST => self.create(&req.body).await,
            (None, _, _) => Err(not_allowed("GET, POST")),
            (Some(id), None, None) => {
                let id = decode(id);
                if m == Method::GET {
                    self.get(&id)
                } else if m == Method::DELETE {
                    self.revoke(&id).await
                } else {
                    Err(not_allowed("GET, DELETE"))
                }
            }
            (Some(id), Some("rotate"), None) if m == Method::POST => self.rotate(&decode(id)).await,
            (Some(_), Some("rotate"), None) => Err(not_allowed("POST")),
            _ => Err(not_found(&req.path)),
        };
        Some(answer.unwrap_or_else(|e| AdminResponse::error(&e)))
    }

    fn list(&self) -> AdminResponse {
        #[derive(Serialize)]
        struct List<'a> {
            object: &'static str,
            data: Vec<super::api_json::KeyView<'a>>,
        }
        let now = SystemTime::now();
        let records = self.directory.list();
        AdminResponse::json_of(
            200,
            &List {
                object: "list",
                data: records.iter().map(|r| view(r, now)).collect(),
            },
        )
    }

    fn get(&self, id: &str) -> Answer {
        let r = self.find(id)?;
        Ok(AdminResponse::json_of(200, &view(&r, SystemTime::now())))
    }

    async fn create(&self, body: &Bytes) -> Answer {
        let now = SystemTime::now();
        let id = new_id().map_err(internal)?;
        let mut record = parse_create(body, &id, now)?;
        let key = new_key().map_err(internal)?;
        record.hint = hint(key.expose());
        let stored = StoredKey {
            digest: self.directory.digest(key.expose().as_bytes()),
            record,
        };
        self.store.insert(&stored).await.map_err(internal)?;
        log::info!(
            "admin: created key {} ('{}')",
            stored.record.id,
            stored.record.name
        );
        let record = stored.record.clone();
        self.directory.upsert_api_key(stored);
        Ok(AdminResponse::json_of(
            201,
            &WithKey {
                key: key.expose(),
                record: view(&record, now),
            },
        ))
    }

    async fn revoke(&self, id: &str) -> Answer {
        let r = self.changeable(id)?;
        if r.revoked() {
            return Ok(AdminResponse::json_of(200, &view(&r, SystemTime::now())));
        }
        let now = SystemTime::now();
        if !self.store.revoke(id, now).await.map_err(internal)? {
            return Err(unknown(id));
        }
        let mut record = KeyRecord::clone(&r);
        record.revoked_at = Some(now);
        record.updated_at = now;
        let digest = self.directory.digest_of(id).ok_or_else(|| unknown(id))?;
        log::info!("admin: revoked key {id} ('{}')", record.name);
        let shown = AdminResponse::json_of(200, &view(&record, now));
        self.directory.upsert_api_key(StoredKey { digest, record });
        Ok(shown)
    }

    async fn rotate(&self, id: &str) -> Answer {
        let r = self.changeable(id)?;
        if r.revoked() {
            return Err(conflict(format!(
                "key '{id}' was revoked; create a new key instead"
            )));
        }
        let now = SystemTime::now();
        let key = new_key().map_err(internal)?;
        let digest = self.directory.digest(key.expose().as_bytes());
        let new_hint = hint(key.expose());
        if !self
            .store
            .rotate(id, &digest, &new_hint, now)
            .await
            .map_err(internal)?
        {
            return Err(conflict(format!(
                "key '{id}' was revoked or removed meanwhile"
            )));
        }
        let mut record = KeyRecord::clone(&r);
        record.hint = new_hint;
        record.updated_at = now;
        log::info!("admin: rotated key {id} ('{}')", record.name);
        let shown = AdminResponse::json_of(
            200,
            &WithKey {
                key: key.expose(),
                record: view(&record, now),
            },
        );
        self.directory.upsert_api_key(StoredKey { digest, record });
        Ok(shown)
    }

    fn find(&self, id: &str) -> Result<Arc<KeyRecord>, GatewayError> {
        self.directory.get(id).ok_or_else(|| unknown(id))
    }

    /// The API key `id` (404 unknown, 409 for a config key).
    fn changeable(&self, id: &str) -> Result<Arc<KeyRecord>, GatewayError> {
        let r = self.find(id)?;
        if r.source == KeySource::Config {
            return Err(conflict(format!(
                "key '{id}' is defined in the config file; change it there"
            )));
        }
        Ok(r)
    }
}

/// A path segment, percent-decoded (config key ids may contain any character).
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn shown(id: &str) -> String {
    id.chars().take(200).collect()
}

fn unknown(id: &str) -> GatewayError {
    GatewayError::new(
        404,
        ErrorKind::NotFound,
        format!("no key with id '{}'", shown(id)),
    )
}

fn not_found(path: &str) -> GatewayError {
    GatewayError::new(
        404,
        ErrorKind::NotFound,
        format!("not found: {}", shown(path)),
    )
}

fn conflict(message: String) -> GatewayError {
    GatewayError::new(409, ErrorKind::InvalidRequest, message)
}

fn not_allowed(allow: &'static str) -> GatewayError {
    GatewayError::new(
        405,
        ErrorKind::MethodNotAllowed,
        format!("method not allowed here; use {allow}"),
    )
}

/// Logs the detail (never a key: store and randomness errors hold none) and answers 500.
fn internal(e: impl std::fmt::Display) -> GatewayError {
    log::error!("admin keys API: {e}");
    GatewayError::internal()
}
