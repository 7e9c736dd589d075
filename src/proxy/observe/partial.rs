//! Billing a stream cut before its end.
//!
//! A stream the client left, or that the provider broke, stalled or ended early, was still
//! generated (and is charged by the provider): it is billed with what was generated. Usage the
//! provider reported before the cut is kept; what it did not report is estimated:
//!
//! * completion tokens from the generated text relayed to the client
//!   ([`crate::stream::delta_count`]: characters / 4), unless the provider's running count is
//!   higher (Gemini counts in every chunk; Anthropic's `message_start` says 1 until the end);
//! * prompt tokens from the planner's tiktoken count when routing made one, else from the
//!   same `o200k_base` count over the request (the `/v1/messages/count_tokens` estimate).
//!
//! The request is then priced like any other, its ledger row and access-log line carry
//! `partial: true`, and limit settlement uses that cost.

use crate::translate::Usage;

/// The usage of a cut stream: `reported` where the provider counted (completion tokens: the
/// larger of its running count and the estimate), estimates elsewhere. `prompt` is only
/// called when the provider reported no prompt tokens.
pub fn usage(reported: Usage, relayed_tokens: u64, prompt: impl FnOnce() -> u64) -> Usage {
    let mut u = reported;
    u.completion_tokens = u.completion_tokens.max(relayed_tokens);
    if u.prompt_tokens == 0 {
        u.prompt_tokens = prompt();
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing reported: both sides estimated.
    #[test]
    fn estimates_what_is_missing() {
        let u = usage(Usage::default(), 12, || 40);
        assert_eq!((u.prompt_tokens, u.completion_tokens), (40, 12));
    }

    /// Reported prompts win and are not re-counted (Anthropic's `message_start` reports input
    /// tokens, and a placeholder of 1 output token, before any output); a running completion
    /// count is kept when it is higher than the estimate.
    #[test]
    fn keeps_reported_counts() {
        let reported = Usage {
            prompt_tokens: 9,
            cached_tokens: 4,
            completion_tokens: 1,
            ..Usage::default()
        };
        let u = usage(reported, 3, || panic!("prompt already reported"));
        assert_eq!(
            (u.prompt_tokens, u.cached_tokens, u.completion_tokens),
            (9, 4, 3)
        );
        let full = Usage {
            prompt_tokens: 9,
            completion_tokens: 30,
            ..Usage::default()
        };
        assert_eq!(usage(full, 3, || 1), full);
    }
}
