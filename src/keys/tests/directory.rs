//! The key directory: config and API keys, revocation, expiry, rotation, reloads, refresh
//! races, and no plaintext anywhere.

use super::{bearer, full_record, req};
use crate::keys::record::{KeyRecord, KeySource};
use crate::keys::{KeyDirectory, StoredKey};
use crate::secret::Secret;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const ALPHA: &str = "sk-alpha-123456";
const BRAVO: &str = "sk-bravo-123456";
const API: &str = "sy-api-key-0123456789abcdefghijklmnop";

fn config_key(name: &str, team: Option<&str>, tags: &[&str]) -> KeyRecord {
    let mut r = KeyRecord::new(name, name, KeySource::Config, SystemTime::now());
    r.team = team.map(Arc::from);
    r.tags = tags
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .into();
    r
}

fn directory() -> KeyDirectory {
    let d = KeyDirectory::new(b"test secret");
    d.set_config_keys(vec![
        (Secret::new(ALPHA.into()), config_key("a", None, &[])),
        (
            Secret::new(BRAVO.into()),
            config_key("b", Some("research"), &["premium"]),
        ),
    ]);
    d
}

fn api_key(d: &KeyDirectory, id: &str, plaintext: &str) -> StoredKey {
    StoredKey {
        digest: d.digest(plaintext.as_bytes()),
        record: KeyRecord::new(id, format!("{id} name"), KeySource::Api, SystemTime::now()),
    }
}

/// Valid keys authenticate by Bearer or x-api-key; everything else is 401 invalid_api_key.
#[test]
fn bearer_and_api_key() {
    let d = directory();
    let b = d.authenticate(&bearer(BRAVO)).unwrap();
    assert_eq!((b.id(), b.name()), ("b", "b"));
    assert_eq!(b.team(), Some("research"));
    assert_eq!(b.tags(), ["premium".to_string()]);
    let a = d
        .authenticate(&req(&[("authorization", "bearer  sk-alpha-123456 ")]))
        .unwrap();
    assert_eq!(a.id(), "a");
    assert_eq!(
        d.authenticate(&req(&[("x-api-key", ALPHA)])).unwrap().id(),
        "a"
    );
    for h in [
        vec![],
        vec![("authorization", "Bearer sk-alpha-12345")],
        vec![("authorization", "Basic abc")],
        vec![("authorization", "Bearer ")],
    ] {
        let e = d.authenticate(&req(&h)).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_deref()),
            (401, Some("invalid_api_key")),
            "{h:?}"
        );
    }
    let long = "x".repeat(600);
    assert!(d.verify(long.as_bytes(), SystemTime::now()).is_err());
}

/// Another secret gives other digests: a key hashed elsewhere does not verify.
#[test]
fn digests_depend_on_the_secret() {
    let d = directory();
    let other = KeyDirectory::new(b"another secret");
    assert_ne!(d.digest(API.as_bytes()), other.digest(API.as_bytes()));
    d.upsert_api_key(api_key(&other, "key_x", API));
    assert!(d.authenticate(&bearer(API)).is_err());
}

#[test]
fn api_keys_revoke_and_rotate() {
    let d = directory();
    d.upsert_api_key(api_key(&d, "key_1", API));
    let p = d.authenticate(&bearer(API)).unwrap();
    assert_eq!((p.id(), p.key.source), ("key_1", KeySource::Api));

    // Rotation: same id, new digest; the old key is unknown, the new one works.
    let rotated = "sy-rotated-key-0123456789abcdefghijk";
    let mut k = api_key(&d, "key_1", rotated);
    k.record = KeyRecord::clone(&p.key);
    d.upsert_api_key(k.clone());
    let e = d.authenticate(&bearer(API)).unwrap_err();
    assert!(e.message.contains("Incorrect API key"), "{}", e.message);
    assert_eq!(d.authenticate(&bearer(rotated)).unwrap().id(), "key_1");

    // Revocation: 401 saying so.
    k.record.revoked_at = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    d.upsert_api_key(k);
    let e = d.authenticate(&bearer(rotated)).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_deref()),
        (401, Some("invalid_api_key"))
    );
    assert!(
        e.message.contains("revoked at 2027-01-15T08:00:00Z"),
        "{}",
        e.message
    );
    assert!(d.get("key_1").unwrap().revoked());
}

#[test]
fn expired_keys_are_refused_with_the_time() {
    let d = directory();
    let mut k = api_key(&d, "key_e", API);
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    k.record.expires_at = Some(at);
    d.upsert_api_key(k);
    assert!(
        d.verify(API.as_bytes(), at - Duration::from_secs(1))
            .is_ok()
    );
    let e = d.verify(API.as_bytes(), at).unwrap_err();
    assert_eq!(e.status, 401);
    assert!(
        e.message.contains("expired at 2027-01-15T08:00:00Z"),
        "{}",
        e.message
    );
}

/// A reload replaces config keys and keeps API keys (and the created_at of kept config keys).
#[test]
fn reload_keeps_api_keys() {
    let d = directory();
    let created_a = d.get("a").unwrap().created_at;
    d.upsert_api_key(api_key(&d, "key_1", API));
    std::thread::sleep(Duration::from_millis(5));
    d.set_config_keys(vec![(
        Secret::new(ALPHA.into()),
        config_key("a", Some("new-team"), &[]),
    )]);
    assert_eq!(d.authenticate(&bearer(API)).unwrap().id(), "key_1");
    let a = d.authenticate(&bearer(ALPHA)).unwrap();
    assert_eq!(a.team(), Some("new-team"), "new settings apply");
    assert_eq!(a.key.created_at, created_a);
    assert!(
        d.authenticate(&bearer(BRAVO)).is_err(),
        "removed config key"
    );
    let ids: Vec<String> = d.list().iter().map(|r| r.id.to_string()).collect();
    assert_eq!(ids, ["a", "key_1"]);
}

/// A config key wins over an API key with the same plaintext; sources are forced.
#[test]
fn config_wins_digest_clash() {
    let d = directory();
    d.upsert_api_key(api_key(&d, "key_clash", ALPHA));
    assert_eq!(d.authenticate(&bearer(ALPHA)).unwrap().id(), "a");
    let mut sneaky = config_key("c", None, &[]);
    sneaky.source = KeySource::Api;
    d.set_config_keys(vec![(Secret::new("sk-c-0123456".into()), sneaky)]);
    assert_eq!(d.get("c").unwrap().source, KeySource::Config);
}

/// A store refresh replaces API keys unless a local change happened since it started.
#[test]
fn stale_refresh_is_discarded() {
    let d = directory();
    let epoch = d.epoch();
    d.upsert_api_key(api_key(&d, "key_new", API));
    assert!(
        !d.replace_api_keys(Vec::new(), epoch),
        "started before the change"
    );
    assert!(d.authenticate(&bearer(API)).is_ok());
    let epoch = d.epoch();
    assert!(d.replace_api_keys(Vec::new(), epoch));
    assert!(d.authenticate(&bearer(API)).is_err(), "gone from the store");
    assert!(d.authenticate(&bearer(ALPHA)).is_ok(), "config keys stay");
    assert_eq!(d.digest_of("key_new"), None);
}

/// Debug output of the directory, records and stored keys holds no plaintext or digest.
#[test]
fn no_plaintext_in_debug() {
    let d = directory();
    let k = api_key(&d, "key_1", API);
    let digest_hex = crate::keys::secret::to_hex(&k.digest);
    d.upsert_api_key(k.clone());
    let mut r = full_record("key_2");
    r.hint = crate::keys::record::hint(API);
    for text in [
        format!("{d:?}"),
        format!("{k:?}"),
        format!("{r:?}"),
        format!("{:?}", d.authenticate(&bearer(API)).unwrap()),
    ] {
        for secret in [ALPHA, BRAVO, API, "alpha-123456", "0123456789abcdefghijklm"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(!text.contains(&digest_hex[..16]), "digest in {text}");
    }
    assert!(format!("{d:?}").contains("key_1"));
}
