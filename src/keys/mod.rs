//! Virtual keys: every client key the gateway accepts, from the config file and from the admin
//! API, with what each may do.
//!
//! - [`record`]: [`KeyRecord`] (id, name, team, org, allowed models and routes, limits, expiry,
//!   tags, audit) and its [`spec`] JSON column form.
//! - [`directory`]: the process-wide [`KeyDirectory`] (digest → record, swapped atomically)
//!   that authenticates requests; it survives config reloads.
//! - [`store`]: [`KeyStore`], the `virtual_keys` table in the ledger database (SQLite or
//!   Postgres; memory when the ledger is off), and [`refresher`], the background reload that
//!   makes keys changed on other instances work (or stop) here within about a second.
//! - [`admin_api`]: `/admin/keys` (create, list, get, revoke, rotate); [`api_json`] its JSON.
//! - [`secret`]: the HMAC secret file, and generation of keys and ids.
//!
//! Keys are never stored, logged or shown in plaintext: only HMAC-SHA256 digests under the
//! gateway's secret, and a short hint.

pub mod admin_api;
pub mod api_json;
pub mod directory;
mod principal;
pub mod record;
pub mod refresher;
pub mod secret;
pub mod spec;
pub mod store;

#[cfg(test)]
mod tests;

pub use admin_api::KeysAdmin;
pub use directory::{Digest, KeyDirectory, StoredKey};
pub use principal::Principal;
pub use record::{KeyRecord, KeySource};
pub use refresher::{DEFAULT_REFRESH, KeyRefresher};
pub use secret::load_or_create_secret;
pub use store::{KeyStore, KeyStoreError};
