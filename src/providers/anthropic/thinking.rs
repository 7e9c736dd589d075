//! Reasoning for the Messages API (docs/wire/mapping.md §10): an [`Ask`] becomes
//! `thinking: {type: "enabled", budget_tokens}`, and the signed thinking blocks of assistant
//! turns go back as `thinking` / `redacted_thinking` blocks.
//!
//! Anthropic's rules the budget keeps: at least 1,024 tokens and below `max_tokens` (the cap is
//! raised by the budget when the budget would not leave room for an answer); `temperature`
//! only 1 and `top_p` at least 0.95 while thinking (both are dropped); no thinking when
//! `tool_choice` forces a tool; and when thinking is on, an assistant turn that calls tools must
//! start with its thinking block — a history whose last tool-calling turn has none (a client
//! that dropped `reasoning_details`) is sent without thinking rather than refused.

use crate::translate::reasoning::{Ask, MIN_BUDGET, Thought};
use serde::Serialize;
use std::borrow::Cow;

/// `thinking` of a Messages request.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    pub budget_tokens: u64,
}

/// Why an asked-for reasoning was not sent (the lossy parameter, for the caller to report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// The catalog does not list `reasoning` for the model.
    NotSupported,
    /// `tool_choice` forces a tool.
    ForcedTool,
    /// The last tool-calling assistant turn carries no thinking block.
    UnsignedHistory,
}

/// What the request sends: the thinking config and the (possibly raised) `max_tokens`.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub thinking: Option<Thinking>,
    pub max_tokens: u64,
    pub skipped: Option<Skipped>,
}

/// Facts of the request that decide whether thinking can be sent.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The model supports extended thinking.
    pub capable: bool,
    /// `tool_choice` is `any` or a named tool.
    pub forced_tool: bool,
    /// The last assistant turn with a tool call starts with a thinking block (or there is none).
    pub history_signed: bool,
}

/// Plans thinking for `ask` with an answer cap of `max_tokens`.
pub fn plan(ask: Option<Ask>, max_tokens: u64, cx: Context) -> Plan {
    let off = |skipped| Plan {
        thinking: None,
        max_tokens,
        skipped,
    };
    let Some(ask) = ask.filter(Ask::enabled) else {
        return off(None);
    };
    let skipped = if !cx.capable {
        Skipped::NotSupported
    } else if cx.forced_tool {
        Skipped::ForcedTool
    } else if !cx.history_signed {
        Skipped::UnsignedHistory
    } else {
        let budget = ask.budget(max_tokens, MIN_BUDGET, u64::MAX);
        let max_tokens = if budget >= max_tokens {
            budget + max_tokens
        } else {
            max_tokens
        };
        return Plan {
            thinking: Some(Thinking {
                kind: "enabled",
                budget_tokens: budget,
            }),
            max_tokens,
            skipped: None,
        };
    };
    off(Some(skipped))
}

/// A thinking block of an assistant turn, as the Messages API takes it back.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ThoughtBlock<'a> {
    Thinking {
        thinking: Cow<'a, str>,
        signature: Cow<'a, str>,
    },
    RedactedThinking {
        data: Cow<'a, str>,
    },
}

/// The blocks Anthropic accepts back: signed thinking and redacted thinking (an unsigned
/// thought came from another provider and cannot be verified: it is left out).
pub fn blocks(thoughts: Vec<Thought<'_>>) -> Vec<ThoughtBlock<'_>> {
    thoughts
        .into_iter()
        .filter_map(|t| match t {
            Thought::Text {
                text,
                signature: Some(signature),
            } => Some(ThoughtBlock::Thinking {
                thinking: text,
                signature,
            }),
            Thought::Text { .. } => None,
            Thought::Redacted { data } => Some(ThoughtBlock::RedactedThinking { data }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::reasoning::Effort;

    const OK: Context = Context {
        capable: true,
        forced_tool: false,
        history_signed: true,
    };

    fn ask(effort: Option<Effort>, max_tokens: Option<u64>) -> Option<Ask> {
        Some(Ask {
            effort,
            max_tokens,
            exclude: false,
        })
    }

    #[test]
    fn budgets_stay_within_anthropic_rules() {
        let p = plan(ask(Some(Effort::High), None), 10_000, OK);
        assert_eq!(p.thinking.as_ref().map(|t| t.budget_tokens), Some(8_000));
        assert_eq!(p.max_tokens, 10_000);
        // The minimum budget exceeds a small cap: the cap grows so an answer still fits.
        let p = plan(ask(Some(Effort::Low), None), 500, OK);
        assert_eq!(p.thinking.as_ref().map(|t| t.budget_tokens), Some(1_024));
        assert_eq!(p.max_tokens, 1_524);
        let p = plan(ask(None, Some(4_000)), 4_000, OK);
        assert_eq!(
            (p.thinking.unwrap().budget_tokens, p.max_tokens),
            (4_000, 8_000)
        );
        assert_eq!(plan(ask(Some(Effort::None), None), 100, OK).thinking, None);
        assert_eq!(plan(None, 100, OK).skipped, None);
    }

    #[test]
    fn skipped_with_reason() {
        let a = ask(Some(Effort::Medium), None);
        let cx = |capable, forced_tool, history_signed| Context {
            capable,
            forced_tool,
            history_signed,
        };
        assert_eq!(
            plan(a, 4096, cx(false, false, true)).skipped,
            Some(Skipped::NotSupported)
        );
        assert_eq!(
            plan(a, 4096, cx(true, true, true)).skipped,
            Some(Skipped::ForcedTool)
        );
        assert_eq!(
            plan(a, 4096, cx(true, false, false)).skipped,
            Some(Skipped::UnsignedHistory)
        );
    }

    #[test]
    fn only_verifiable_thoughts_go_back() {
        let b = blocks(vec![
            Thought::Text {
                text: "a".into(),
                signature: Some("sig".into()),
            },
            Thought::Text {
                text: "b".into(),
                signature: None,
            },
            Thought::Redacted { data: "r".into() },
        ]);
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"type": "thinking", "thinking": "a", "signature": "sig"},
                {"type": "redacted_thinking", "data": "r"}
            ])
        );
    }
}
