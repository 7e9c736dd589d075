//! Prompt-cache breakpoints in the request IR: Anthropic's `cache_control`, which OpenAI-format
//! clients put on content parts, on a whole message or on a tool (as LiteLLM and OpenRouter
//! accept), and which the Anthropic front end carries over from its blocks.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// `{"type": "ephemeral", "ttl": "5m" | "1h"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CacheControl<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Cow<'a, str>>,
}

impl CacheControl<'_> {
    /// The default breakpoint (`ephemeral`, the provider's default lifetime).
    pub fn ephemeral() -> CacheControl<'static> {
        CacheControl {
            kind: Cow::Borrowed("ephemeral"),
            ttl: None,
        }
    }

    /// An owned copy.
    pub fn to_owned_static(&self) -> CacheControl<'static> {
        CacheControl {
            kind: Cow::Owned(self.kind.to_string()),
            ttl: self.ttl.as_ref().map(|t| Cow::Owned(t.to_string())),
        }
    }
}
