//! `server.ledger`: where the ledger is stored, chosen by URL.

use std::path::PathBuf;

/// Default store: a SQLite file relative to the working directory.
pub const DEFAULT_URL: &str = "sqlite://./data/switchyard.db";

/// A validated ledger store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerTarget {
    Off,
    /// `sqlite://<path>` (`sqlite://./data/x.db` relative, `sqlite:///var/lib/x.db` absolute).
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL (plaintext; TLS modes are rejected).
    Postgres(String),
}

impl LedgerTarget {
    /// Parses `off`, `sqlite://...` or `postgres://...`; the error says what is accepted.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url == "off" {
            return Ok(Self::Off);
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "sqlite:// needs a file path, e.g. sqlite://./data/switchyard.db".into(),
                );
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let config: tokio_postgres::Config = url
                .parse()
                .map_err(|e| format!("invalid Postgres URL: {e}"))?;
            if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
                return Err(
                    "sslmode=require is not supported (the ledger connects without TLS); use a \
                     loopback or private-network Postgres with sslmode=disable"
                        .into(),
                );
            }
            return Ok(Self::Postgres(url.to_string()));
        }
        Err("must be off, sqlite://<path> or postgres://user@host:port/db".into())
    }
}
