//! Client authentication: `Authorization: Bearer <key>` (or `x-api-key`) against the configured
//! keys. Keys are held only as HMAC-SHA256 digests under a per-process random secret; lookup is
//! by digest and the final comparison is constant-time. No I/O.

use crate::config::ClientKey;
use crate::error::GatewayError;
use hmac::{Hmac, KeyInit, Mac};
use pingora::http::RequestHeader;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Index of a key in the table.
pub type KeyId = usize;

type Digest = [u8; 32];

/// Longest key accepted; anything longer is rejected before hashing.
const MAX_KEY_LEN: usize = 512;

/// The authenticated caller: the key and what routing rules may ask about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key: KeyId,
    /// The key's `team` (shared, not copied per request).
    pub team: Option<Arc<str>>,
    /// The key's `tags`.
    pub tags: Arc<[String]>,
}

/// Hashed client keys.
pub struct KeyTable {
    /// HMAC state keyed with the per-process secret; cloned per digest.
    mac: Hmac<Sha256>,
    by_digest: HashMap<Digest, KeyId>,
    digests: Vec<Digest>,
    names: Vec<String>,
    teams: Vec<Option<Arc<str>>>,
    tags: Vec<Arc<[String]>>,
}

impl std::fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTable")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl KeyTable {
    /// Hashes `keys`; the plaintext is not kept.
    pub fn new(keys: &[ClientKey]) -> Self {
        let mut secret = [0u8; 32];
        if getrandom::fill(&mut secret).is_err() {
            // No OS randomness: fall back to a time-derived secret (digests stay per-process).
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            secret[..16].copy_from_slice(&t.to_le_bytes());
        }
        let mut table = Self {
            mac: keyed_mac(&secret),
            by_digest: HashMap::with_capacity(keys.len()),
            digests: Vec::new(),
            names: Vec::new(),
            teams: Vec::new(),
            tags: Vec::new(),
        };
        for (id, k) in keys.iter().enumerate() {
            let d = table.digest(k.key.expose().as_bytes());
            table.by_digest.insert(d, id);
            table.digests.push(d);
            table.names.push(k.name.clone());
            table.teams.push(k.team.as_deref().map(Arc::from));
            table.tags.push(Arc::from(k.tags.as_slice()));
        }
        table
    }

    fn digest(&self, key: &[u8]) -> Digest {
        let mut mac = self.mac.clone();
        mac.update(key);
        mac.finalize().into_bytes().into()
    }

    /// Verifies a presented key.
    pub fn verify(&self, presented: &[u8]) -> Option<Principal> {
        if presented.is_empty() || presented.len() > MAX_KEY_LEN {
            return None;
        }
        let d = self.digest(presented);
        let id = *self.by_digest.get(&d)?;
        bool::from(self.digests[id].ct_eq(&d)).then(|| Principal {
            key: id,
            team: self.teams.get(id).cloned().flatten(),
            tags: self.tags.get(id).cloned().unwrap_or_else(|| Arc::from([])),
        })
    }

    /// The configured name of a key (safe to log).
    pub fn name(&self, id: KeyId) -> &str {
        self.names.get(id).map(String::as_str).unwrap_or("")
    }

    /// Authenticates a request from its headers.
    pub fn authenticate(&self, header: &RequestHeader) -> Result<Principal, GatewayError> {
        let token = presented_key(header)?;
        self.verify(token).ok_or_else(|| {
            GatewayError::unauthorized(
                "Incorrect API key provided. Use a key configured in Switchyard.",
            )
        })
    }
}

#[expect(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length; a 32-byte key cannot fail"
)]
fn keyed_mac(secret: &[u8; 32]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC key of any length is valid")
}

/// The key from `Authorization: Bearer …`, else from `x-api-key`.
fn presented_key(header: &RequestHeader) -> Result<&[u8], GatewayError> {
    if let Some(v) = header.headers.get(http::header::AUTHORIZATION) {
        let v = v.as_bytes();
        let token = v
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case(b"bearer "))
            .map(|_| v[7..].trim_ascii())
            .ok_or_else(|| {
                GatewayError::unauthorized(
                    "Malformed Authorization header; expected `Authorization: Bearer <key>`.",
                )
            })?;
        return Ok(token);
    }
    if let Some(v) = header.headers.get("x-api-key") {
        return Ok(v.as_bytes().trim_ascii());
    }
    Err(GatewayError::unauthorized(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn table() -> KeyTable {
        KeyTable::new(&[
            ClientKey {
                name: "a".into(),
                key: Secret::new("sk-alpha-123456".into()),
                team: None,
                tags: vec![],
                policy: Default::default(),
            },
            ClientKey {
                name: "b".into(),
                key: Secret::new("sk-bravo-123456".into()),
                team: Some("research".into()),
                tags: vec!["premium".into()],
                policy: Default::default(),
            },
        ])
    }

    fn req(headers: &[(&str, &str)]) -> RequestHeader {
        let mut h = RequestHeader::build("POST", b"/v1/chat/completions", None).unwrap();
        for (k, v) in headers {
            h.insert_header(k.to_string(), *v).unwrap();
        }
        h
    }

    /// Valid keys authenticate by Bearer or x-api-key; others are 401.
    #[test]
    fn bearer_and_api_key() {
        let t = table();
        let b = t
            .authenticate(&req(&[("authorization", "Bearer sk-bravo-123456")]))
            .unwrap();
        assert_eq!(b.key, 1);
        assert_eq!(b.team.as_deref(), Some("research"));
        assert_eq!(&b.tags[..], ["premium".to_string()]);
        assert_eq!(
            t.authenticate(&req(&[("authorization", "bearer  sk-alpha-123456 ")]))
                .unwrap()
                .key,
            0
        );
        assert_eq!(
            t.authenticate(&req(&[("x-api-key", "sk-alpha-123456")]))
                .unwrap()
                .key,
            0
        );
        for h in [
            vec![],
            vec![("authorization", "Bearer sk-alpha-12345")],
            vec![("authorization", "Basic abc")],
            vec![("authorization", "Bearer ")],
        ] {
            let e = t.authenticate(&req(&h)).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_deref()),
                (401, Some("invalid_api_key")),
                "{h:?}"
            );
        }
        assert!(t.verify(&[b'x'; 600]).is_none());
    }

    /// The table keeps no plaintext.
    #[test]
    fn no_plaintext_kept() {
        let t = table();
        assert!(!format!("{t:?}").contains("alpha-123456"));
        assert_eq!(t.name(0), "a");
    }
}
