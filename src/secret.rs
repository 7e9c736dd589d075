//! `Secret`: a string that never prints itself (Debug, Display and log lines show `***`).

use std::fmt;

/// A secret value from the config (provider API key, client key). Only [`Secret::expose`]
/// reveals it, at the single place that puts it on the wire or hashes it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself; call only where it is sent or hashed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no value was configured (an empty `${VAR:-}` substitution, say).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Formatting a secret never reveals it.
    #[test]
    fn never_prints_value() {
        let s = Secret::new("sk-canary-123".into());
        assert_eq!(format!("{s}"), "***");
        assert!(!format!("{s:?}").contains("canary"));
        assert_eq!(s.expose(), "sk-canary-123");
    }
}
