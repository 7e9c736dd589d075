//! Provider-agnostic translation types: the OpenAI wire format the gateway speaks to clients
//! ([`request`] inbound, [`response`] outbound) and the shared [`Usage`] and [`FinishReason`].
//! Everything specific to one provider lives in `providers/<name>`.

pub mod borrow;
pub mod cache;
pub mod embeddings;
pub mod events;
pub mod reasoning;
pub mod request;
pub mod response;
pub mod routing_params;

use serde::Serialize;

/// Per-request facts the translators need besides the request itself.
#[derive(Debug, Clone)]
pub struct TranslateCtx<'a> {
    /// Configured provider name, for error messages.
    pub provider: &'a str,
    /// Gateway request id; OpenAI ids of translated responses derive from it.
    pub request_id: &'a str,
    /// `created` timestamp of the response.
    pub created: u64,
    /// The client asked for `stream_options.include_usage`.
    pub include_usage: bool,
    /// The client format's renderers; `None`: OpenAI chat.
    pub format: Option<&'static events::ClientFormat>,
    /// The request asked for structured output through the gateway's answer tool
    /// (`providers::structured::ANSWER_TOOL`): a call of that tool is the answer's content.
    pub tool_answer: bool,
}

/// Token usage of one request, normalised to OpenAI semantics:
/// `prompt_tokens` includes cached and cache-write tokens, `completion_tokens` includes reasoning.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens read from a provider cache (a subset of `prompt_tokens`).
    pub cached_tokens: u64,
    /// Prompt tokens written to a provider cache (a subset of `prompt_tokens`).
    pub cache_write_tokens: u64,
    /// Reasoning tokens (a subset of `completion_tokens`).
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Prompt plus completion.
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }

    /// The OpenAI `usage` object.
    pub fn to_openai(self) -> OpenAiUsage {
        OpenAiUsage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            total_tokens: self.total_tokens(),
            prompt_tokens_details: PromptDetails {
                cached_tokens: self.cached_tokens,
                cache_write_tokens: (self.cache_write_tokens > 0)
                    .then_some(self.cache_write_tokens),
            },
            completion_tokens_details: CompletionDetails {
                reasoning_tokens: self.reasoning_tokens,
            },
        }
    }
}

/// Serialized form of [`Usage`].
#[derive(Debug, Serialize)]
pub struct OpenAiUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub prompt_tokens_details: PromptDetails,
    pub completion_tokens_details: CompletionDetails,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Serialize)]
pub struct PromptDetails {
    pub cached_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Serialize)]
pub struct CompletionDetails {
    pub reasoning_tokens: u64,
}

/// OpenAI `finish_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
}

impl FinishReason {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

/// Seconds since the Unix epoch, for `created`.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
