//! The key stores (memory, SQLite file, real Postgres) and the refresher that carries changes
//! made on one instance to another.

use super::{bearer, full_record};
use crate::keys::record::from_unix_secs;
use crate::keys::{KeyDirectory, KeyRefresher, KeyStore, StoredKey};
use crate::ledger::LedgerTarget;
use std::sync::Arc;
use std::time::Duration;

fn stored(id: &str, digest_byte: u8) -> StoredKey {
    StoredKey {
        digest: [digest_byte; 32],
        record: full_record(id),
    }
}

/// Insert, load, revoke (idempotent), rotate, and the failure answers, on any store.
async fn exercise(store: &KeyStore) {
    let a = stored("key_a", 1);
    let mut b = stored("key_b", 2);
    b.record.expires_at = None;
    b.record.models.clear();
    store.insert(&b).await.unwrap();
    store.insert(&a).await.unwrap();
    assert!(store.insert(&a).await.is_err(), "duplicate id");
    let mut dup_digest = stored("key_c", 2);
    dup_digest.record.hint = "other".into();
    assert!(store.insert(&dup_digest).await.is_err(), "digest is unique");

    let mut all = store.load_all().await.unwrap();
    all.sort_by(|x, y| x.record.id.cmp(&y.record.id));
    assert_eq!(all, vec![a.clone(), b.clone()], "records round-trip");

    let t1 = from_unix_secs(1_800_000_000);
    let t2 = from_unix_secs(1_800_000_500);
    assert!(store.revoke("key_a", t1).await.unwrap());
    assert!(
        store.revoke("key_a", t2).await.unwrap(),
        "again: still there"
    );
    assert!(!store.revoke("key_missing", t1).await.unwrap());
    assert!(
        !store.rotate("key_a", &[9; 32], "h", t2).await.unwrap(),
        "revoked keys do not rotate"
    );
    assert!(
        store
            .rotate("key_b", &[7; 32], "sy-new…hint", t2)
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate("key_missing", &[8; 32], "h", t2)
            .await
            .unwrap()
    );

    let all = store.load_all().await.unwrap();
    let get = |id: &str| all.iter().find(|k| &*k.record.id == id).cloned().unwrap();
    let (a2, b2) = (get("key_a"), get("key_b"));
    assert_eq!(a2.record.revoked_at, Some(t1), "first revocation time kept");
    assert_eq!(a2.digest, a.digest);
    assert_eq!(b2.digest, [7; 32]);
    assert_eq!(b2.record.hint, "sy-new…hint");
    assert_eq!(b2.record.updated_at, t2);
    assert_eq!(
        b2.record.created_at, b.record.created_at,
        "id and creation stay"
    );
    assert_eq!(b2.record.revoked_at, None);
}

#[tokio::test]
async fn memory_store() {
    let store = KeyStore::memory();
    assert!(!store.is_shared());
    exercise(&store).await;
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/ledger.db");
    let store = KeyStore::new(&LedgerTarget::Sqlite(path.clone()));
    assert!(store.is_shared());
    exercise(&store).await;
    // The ledger's own migrations ran: a second run does nothing, requests table exists.
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(crate::ledger::sqlite::migrate(&mut conn).unwrap(), 0);
    let n: i64 = conn
        .query_row("SELECT count(*) FROM virtual_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    // A malformed row is skipped, not fatal.
    conn.execute(
        "INSERT INTO virtual_keys VALUES ('key_bad', 'zz', 'h', 'n', '{}', 0, 0, NULL)",
        [],
    )
    .unwrap();
    assert_eq!(store.load_all().await.unwrap().len(), 2);
}

#[tokio::test]
async fn unreachable_sqlite_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let store = KeyStore::new(&LedgerTarget::Sqlite(file.join("under-a-file.db")));
    assert!(store.load_all().await.is_err());
}

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh schema in the test database, or `None` after printing the SKIPPED line.
async fn pg_schema(test: &str) -> Option<(tokio_postgres::Client, String, String)> {
    let url = std::env::var("SWITCHYARD_TEST_POSTGRES").unwrap_or_else(|_| PG.to_string());
    let connected = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(&url, tokio_postgres::NoTls),
    )
    .await;
    let Ok(Ok((client, conn))) = connected else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: postgres not reachable at 127.0.0.1:5432"
        );
        return None;
    };
    tokio::spawn(conn);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("keys_test_{}_{nanos}", std::process::id());
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
    Some((client, schema, scoped))
}

#[tokio::test]
async fn postgres_store() {
    let Some((client, schema, url)) = pg_schema("keys::tests::store::postgres_store").await else {
        return;
    };
    let store = KeyStore::new(&LedgerTarget::Postgres(url));
    exercise(&store).await;
    let n: i64 = client
        .query_one(&format!("SELECT count(*) FROM {schema}.virtual_keys"), &[])
        .await
        .unwrap()
        .get(0);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    assert_eq!(n, 2);
}

/// Two instances share a store and a secret: a key made through one works on the other after
/// a refresh, and stops working there once revoked.
async fn two_instances(target: LedgerTarget) {
    let secret = b"shared secret of both instances";
    let (dir_a, dir_b) = (
        Arc::new(KeyDirectory::new(secret)),
        Arc::new(KeyDirectory::new(secret)),
    );
    let (store_a, store_b) = (
        Arc::new(KeyStore::new(&target)),
        Arc::new(KeyStore::new(&target)),
    );
    let admin_a = crate::keys::KeysAdmin::new(dir_a.clone(), store_a);
    let refresher_b = KeyRefresher::new(dir_b.clone(), store_b, Duration::from_secs(1));

    let (status, created) =
        super::admin_api::call(&admin_a, "POST", "/admin/keys", r#"{"name":"shared"}"#).await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        dir_b.authenticate(&bearer(&key)).is_err(),
        "not refreshed yet"
    );
    assert_eq!(refresher_b.refresh_once().await.unwrap(), 1);
    assert_eq!(dir_b.authenticate(&bearer(&key)).unwrap().id(), id);

    let (status, _) =
        super::admin_api::call(&admin_a, "DELETE", &format!("/admin/keys/{id}"), "").await;
    assert_eq!(status, 200);
    refresher_b.refresh_once().await.unwrap();
    let e = dir_b.authenticate(&bearer(&key)).unwrap_err();
    assert!(e.message.contains("revoked"), "{}", e.message);
}

#[tokio::test]
async fn sqlite_instances_share_keys() {
    let dir = tempfile::tempdir().unwrap();
    two_instances(LedgerTarget::Sqlite(dir.path().join("ledger.db"))).await;
}

#[tokio::test]
async fn postgres_instances_share_keys() {
    let Some((client, schema, url)) =
        pg_schema("keys::tests::store::postgres_instances_share_keys").await
    else {
        return;
    };
    two_instances(LedgerTarget::Postgres(url)).await;
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

/// The background service applies the store on its first tick and stops on shutdown.
#[tokio::test]
async fn refresher_service_runs_until_shutdown() {
    use pingora::services::background::BackgroundService;
    let dir = tempfile::tempdir().unwrap();
    let target = LedgerTarget::Sqlite(dir.path().join("ledger.db"));
    let d = Arc::new(KeyDirectory::new(b"s"));
    let store = Arc::new(KeyStore::new(&target));
    let key = "sy-refreshed-0123456789abcdefghijklmn";
    store
        .insert(&StoredKey {
            digest: d.digest(key.as_bytes()),
            record: full_record("key_r"),
        })
        .await
        .unwrap();
    let refresher = Arc::new(KeyRefresher::new(
        d.clone(),
        store,
        Duration::from_millis(20),
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn({
        let r = refresher.clone();
        async move { r.start(rx).await }
    });
    tokio::time::timeout(Duration::from_secs(5), async {
        while d.authenticate(&bearer(key)).is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}
