//! Reasoning for Gemini (docs/wire/mapping.md §10): an [`Ask`] becomes
//! `generationConfig.thinkingConfig`, within the model's range.
//!
//! Gemini 2.5 takes a `thinkingBudget` (Pro 128–32,768 and never off; Flash 0–24,576;
//! Flash-Lite 512–24,576 or 0); Gemini 3 takes a `thinkingLevel` (`low` / `high`), or a budget
//! when the client names one. Older models do not think (the ask is dropped). Gemini counts
//! thoughts against `maxOutputTokens`, so a client cap is raised by the budget to leave the
//! answer its room. `includeThoughts` returns the reasoning text unless the client excluded it.

use crate::translate::reasoning::{Ask, Effort};
use serde::Serialize;

/// `generationConfig.thinkingConfig`.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_budget: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_level: Option<&'static str>,
    include_thoughts: bool,
}

/// How a model family thinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Budget range; `can_disable`: 0 turns thinking off.
    Budget {
        min: u64,
        max: u64,
        can_disable: bool,
    },
    /// Gemini 3: levels.
    Levels,
    /// No thinking.
    None,
}

fn family(model: &str) -> Family {
    let m = model.rsplit('/').next().unwrap_or(model);
    if m.starts_with("gemini-3") {
        Family::Levels
    } else if m.starts_with("gemini-2.5-pro") {
        Family::Budget {
            min: 128,
            max: 32_768,
            can_disable: false,
        }
    } else if m.starts_with("gemini-2.5-flash-lite") {
        Family::Budget {
            min: 512,
            max: 24_576,
            can_disable: true,
        }
    } else if m.starts_with("gemini-2.5-flash") {
        Family::Budget {
            min: 1,
            max: 24_576,
            can_disable: true,
        }
    } else {
        Family::None
    }
}

/// The thinking config for `ask` on `model`, and the `maxOutputTokens` to send (the client's
/// `max_output`, raised by the budget). `None` config: the model's default (or it cannot
/// think).
pub fn config(
    ask: Option<Ask>,
    model: &str,
    max_output: Option<u64>,
) -> (Option<ThinkingConfig>, Option<u64>) {
    let Some(ask) = ask else {
        return (None, max_output);
    };
    let include_thoughts = !ask.exclude;
    match family(model) {
        Family::None => (None, max_output),
        Family::Levels if ask.max_tokens.is_none() => {
            let level = match ask.effort() {
                Effort::None | Effort::Minimal | Effort::Low => "low",
                _ => "high",
            };
            let cfg = ThinkingConfig {
                thinking_budget: None,
                thinking_level: Some(level),
                include_thoughts,
            };
            (Some(cfg), max_output)
        }
        Family::Levels => budget_config(ask, 1, 32_768, false, max_output),
        Family::Budget {
            min,
            max,
            can_disable,
        } => budget_config(ask, min, max, can_disable, max_output),
    }
}

fn budget_config(
    ask: Ask,
    min: u64,
    max: u64,
    can_disable: bool,
    max_output: Option<u64>,
) -> (Option<ThinkingConfig>, Option<u64>) {
    if !ask.enabled() {
        let budget = if can_disable { 0 } else { min };
        let cfg = ThinkingConfig {
            thinking_budget: Some(budget),
            thinking_level: None,
            include_thoughts: false,
        };
        return (Some(cfg), max_output);
    }
    let budget = ask.budget(max_output.unwrap_or(max), min, max);
    let cfg = ThinkingConfig {
        thinking_budget: Some(budget),
        thinking_level: None,
        include_thoughts: !ask.exclude,
    };
    (Some(cfg), max_output.map(|m| m + budget))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(effort: Option<Effort>, max_tokens: Option<u64>) -> Option<Ask> {
        Some(Ask {
            effort,
            max_tokens,
            exclude: false,
        })
    }

    fn json(c: &Option<ThinkingConfig>) -> serde_json::Value {
        serde_json::to_value(c).unwrap()
    }

    #[test]
    fn budgets_within_each_models_range() {
        let (c, max) = config(
            ask(Some(Effort::High), None),
            "gemini-2.5-flash",
            Some(1_000),
        );
        assert_eq!(
            json(&c),
            serde_json::json!({"thinkingBudget": 800, "includeThoughts": true})
        );
        assert_eq!(max, Some(1_800));
        let (c, max) = config(ask(None, Some(100_000)), "gemini-2.5-pro", None);
        assert_eq!(c.unwrap().thinking_budget, Some(32_768));
        assert_eq!(max, None);
        // Pro cannot stop thinking: `none` is its minimum; Flash can.
        let (c, _) = config(ask(Some(Effort::None), None), "gemini-2.5-pro", None);
        assert_eq!(c.unwrap().thinking_budget, Some(128));
        let (c, _) = config(
            ask(Some(Effort::None), None),
            "models/gemini-2.5-flash-lite",
            None,
        );
        assert_eq!(c.unwrap().thinking_budget, Some(0));
        let (c, _) = config(
            ask(Some(Effort::Low), Some(10)),
            "gemini-2.5-flash-lite",
            None,
        );
        assert_eq!(c.unwrap().thinking_budget, Some(512));
    }

    #[test]
    fn levels_for_gemini_3_and_nothing_for_older() {
        let (c, _) = config(
            ask(Some(Effort::Medium), None),
            "gemini-3-pro-preview",
            None,
        );
        assert_eq!(
            json(&c),
            serde_json::json!({"thinkingLevel": "high", "includeThoughts": true})
        );
        let (c, _) = config(ask(Some(Effort::Minimal), None), "gemini-3-flash", None);
        assert_eq!(c.unwrap().thinking_level, Some("low"));
        assert_eq!(
            config(ask(Some(Effort::High), None), "gemini-2.0-flash", Some(5)),
            (None, Some(5))
        );
        assert_eq!(config(None, "gemini-2.5-flash", Some(7)), (None, Some(7)));
    }
}
