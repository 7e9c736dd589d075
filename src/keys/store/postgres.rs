//! `virtual_keys` in the Postgres ledger database: a client of its own (plaintext, like the
//! ledger), connected and migrated on first use and reconnected after the connection drops.

use super::{KeyRow, KeyStoreError};
use std::time::Duration;
use tokio_postgres::{Client, NoTls};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const COLUMNS: &str = "id, digest, hint, name, spec, created_at, updated_at, revoked_at";

pub(super) struct PgKeys {
    url: String,
    client: tokio::sync::Mutex<Option<Client>>,
}

impl PgKeys {
    pub(super) fn new(url: String) -> Self {
        Self {
            url,
            client: tokio::sync::Mutex::new(None),
        }
    }

    /// The connected client (connecting and migrating first when needed), locked.
    async fn client(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Client>, KeyStoreError> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(connect(&self.url).await?);
        }
        tokio::sync::MutexGuard::try_map(guard, Option::as_mut)
            .map_err(|_| KeyStoreError("postgres key store not connected".into()))
    }

    pub(super) async fn load_all(&self) -> Result<Vec<KeyRow>, KeyStoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {COLUMNS} FROM virtual_keys ORDER BY id"),
                &[],
            )
            .await
            .map_err(fail)?;
        rows.iter()
            .map(|r| {
                Ok(KeyRow {
                    id: r.try_get(0)?,
                    digest: r.try_get(1)?,
                    hint: r.try_get(2)?,
                    name: r.try_get(3)?,
                    spec: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                    updated_at: r.try_get(6)?,
                    revoked_at: r.try_get(7)?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(fail)
    }

    pub(super) async fn insert(&self, row: KeyRow) -> Result<(), KeyStoreError> {
        let client = self.client().await?;
        client
            .execute(
                &format!(
                    "INSERT INTO virtual_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[
                    &row.id,
                    &row.digest,
                    &row.hint,
                    &row.name,
                    &row.spec,
                    &row.created_at,
                    &row.updated_at,
                    &row.revoked_at,
                ],
            )
            .await
            .map(drop)
            .map_err(fail)
    }

    pub(super) async fn revoke(&self, id: &str, at: i64) -> Result<bool, KeyStoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE virtual_keys SET revoked_at = COALESCE(revoked_at, $2), updated_at = $2
                 WHERE id = $1",
                &[&id, &at],
            )
            .await
            .map(|n| n > 0)
            .map_err(fail)
    }

    pub(super) async fn rotate(
        &self,
        id: &str,
        digest: &str,
        hint: &str,
        at: i64,
    ) -> Result<bool, KeyStoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE virtual_keys SET digest = $2, hint = $3, updated_at = $4
                 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &digest, &hint, &at],
            )
            .await
            .map(|n| n > 0)
            .map_err(fail)
    }
}

fn fail(e: tokio_postgres::Error) -> KeyStoreError {
    KeyStoreError(format!("postgres key store: {e}"))
}

/// Connects (the connection task runs on the current runtime) and applies the ledger
/// migrations, which create `virtual_keys`.
async fn connect(url: &str) -> Result<Client, KeyStoreError> {
    let (mut client, conn) =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio_postgres::connect(url, NoTls))
            .await
            .map_err(|_| KeyStoreError("postgres key store: connect timed out".into()))?
            .map_err(fail)?;
    // The connection object drives the socket for as long as the client lives.
    crate::task::spawn_named("key store postgres connection", async move {
        if let Err(e) = conn.await {
            log::warn!("key store: postgres connection ended: {e}");
        }
    });
    crate::ledger::postgres::migrate(&mut client)
        .await
        .map_err(|e| KeyStoreError(format!("postgres key store: migration failed: {e}")))?;
    Ok(client)
}
