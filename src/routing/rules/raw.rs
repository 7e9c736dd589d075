//! The proposed YAML shape of a route's `match:` (a superset of today's `match: { model }`,
//! so existing configs stay valid). Every listed condition must hold; lists mean "any of".
//!
//! ```yaml
//! routes:
//!   - name: long-docs                 # tried first: first match wins, in file order
//!     match:
//!       model: ["gpt-4*", "*-mini"]   # glob(s): `*`, `?`, `\` escapes; a plain name is exact
//!       prompt_tokens: { above: 32000 }
//!     targets: [ { provider: anthropic, model: claude-sonnet-4-5 } ]
//!   - name: code
//!     match:
//!       model: "gpt-4*"
//!       tools: true                   # the request declares tools (false: declares none)
//!       last_user_message: '(?i)\b(rust|python|stack trace|compile)\b'   # regex
//!     targets: [ { provider: openai, model: gpt-4.1 } ]
//!   - name: premium
//!     match:
//!       model: "*"
//!       team: [research, platform]    # the calling key's team, any of
//!       tags: premium                 # the calling key has any of these tags
//!       prompt_tokens: { below: 8000 } # above/below are strict; both may be given
//!       headers:
//!         x-tier: premium             # header equals (any of its values)
//!         x-trace-id: { present: true }   # header present (false: absent)
//!       metadata: { task: summarize } # body `metadata` field equals (strings; numbers and
//!                                     # booleans compare by their JSON text)
//!     targets: [ { provider: openai, model: gpt-4o } ]
//!   - name: default
//!     match: {}                       # no condition: catch-all, keep it last
//!     targets: [ { provider: openai, model: gpt-4o-mini } ]
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

/// `match:` of a route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Model name globs, any of.
    #[serde(default)]
    pub model: OneOrMany,
    /// Teams of the calling key, any of.
    #[serde(default)]
    pub team: OneOrMany,
    /// Tags of the calling key, any of.
    #[serde(default)]
    pub tags: OneOrMany,
    /// Whether the request declares tools.
    #[serde(default)]
    pub tools: Option<bool>,
    /// Estimated prompt tokens range.
    #[serde(default)]
    pub prompt_tokens: Option<RawTokens>,
    /// Regex over the last user message's text.
    #[serde(default)]
    pub last_user_message: Option<String>,
    /// Header name → condition.
    #[serde(default)]
    pub headers: BTreeMap<String, RawHeader>,
    /// Body `metadata` key → expected value.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings, in order.
    pub fn items(&self) -> &[String] {
        match self {
            Self::None => &[],
            Self::One(s) => std::slice::from_ref(s),
            Self::Many(v) => v,
        }
    }
}

/// `prompt_tokens: { above, below }` (strict bounds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    #[serde(default)]
    pub above: Option<u64>,
    #[serde(default)]
    pub below: Option<u64>,
}

/// A header condition: `value` (equals) or `{ present: bool }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RawHeader {
    Equals(String),
    Present { present: bool },
}
