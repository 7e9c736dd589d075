//! [`Principal`]: who a request authenticated as.

use super::KeyRecord;
use std::sync::Arc;

/// The authenticated caller: the record of the key it presented (shared, not copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key: Arc<KeyRecord>,
}

impl Principal {
    /// The key's stable id (config name or `key_…`).
    pub fn id(&self) -> &str {
        &self.key.id
    }

    /// The key's name (safe to log).
    pub fn name(&self) -> &str {
        &self.key.name
    }

    /// The key's team.
    pub fn team(&self) -> Option<&str> {
        self.key.team.as_deref()
    }

    /// The key's tags.
    pub fn tags(&self) -> &[String] {
        &self.key.tags
    }
}
