//! Reasoning in the request IR: what the client asks for (`reasoning_effort`, OpenRouter's
//! `reasoning {effort | max_tokens | exclude | enabled}`), and the signed thinking blocks an
//! assistant turn carries back (`reasoning_details`, OpenRouter's form, or `thinking_blocks`,
//! LiteLLM's).
//!
//! Providers turn an [`Ask`] into their own knob (docs/wire/mapping.md §10): Anthropic and
//! Bedrock-hosted Claude a `thinking` budget, Gemini a `thinkingConfig`, Cohere a token budget,
//! Ollama `think`, OpenAI `reasoning_effort`.

use crate::error::GatewayError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A reasoning effort, in OpenAI's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    XHigh,
}

impl Effort {
    fn parse(s: &str) -> Option<Effort> {
        Some(match s {
            "none" => Effort::None,
            "minimal" => Effort::Minimal,
            "low" => Effort::Low,
            "medium" => Effort::Medium,
            "high" => Effort::High,
            "xhigh" => Effort::XHigh,
            _ => return None,
        })
    }

    /// The OpenAI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::None => "none",
            Effort::Minimal => "minimal",
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::XHigh => "xhigh",
        }
    }

    /// Share of the output cap a thinking budget takes at this effort (OpenRouter's ratios,
    /// extended at both ends).
    fn ratio(self) -> f64 {
        match self {
            Effort::None => 0.0,
            Effort::Minimal => 0.1,
            Effort::Low => 0.2,
            Effort::Medium => 0.5,
            Effort::High => 0.8,
            Effort::XHigh => 0.95,
        }
    }

    /// The effort closest to a token budget (for targets that only take an effort).
    pub fn from_budget(tokens: u64) -> Effort {
        match tokens {
            0 => Effort::None,
            1..=1_024 => Effort::Minimal,
            1_025..=4_096 => Effort::Low,
            4_097..=16_384 => Effort::Medium,
            16_385..=32_768 => Effort::High,
            _ => Effort::XHigh,
        }
    }
}

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub effort: Option<Effort>,
    /// An explicit thinking budget (OpenRouter `reasoning.max_tokens`, Anthropic `thinking`).
    pub max_tokens: Option<u64>,
    /// Think, but do not return the reasoning text.
    pub exclude: bool,
}

/// Anthropic's smallest thinking budget.
pub const MIN_BUDGET: u64 = 1_024;

impl Ask {
    /// Reasoning is on (an explicit budget, or any effort but `none`).
    pub fn enabled(&self) -> bool {
        match (self.max_tokens, self.effort) {
            (Some(n), _) => n > 0,
            (None, Some(e)) => e != Effort::None,
            (None, None) => false,
        }
    }

    /// The effort to send to targets that take one.
    pub fn effort(&self) -> Effort {
        match (self.effort, self.max_tokens) {
            (Some(e), _) => e,
            (None, Some(n)) => Effort::from_budget(n),
            (None, None) => Effort::Medium,
        }
    }

    /// A thinking budget for an answer capped at `max_output` tokens: the explicit budget, else
    /// the effort's share of the cap; never below `min`, never above `max`.
    pub fn budget(&self, max_output: u64, min: u64, max: u64) -> u64 {
        let wanted = self.max_tokens.unwrap_or_else(|| {
            let ratio = self.effort.unwrap_or(Effort::Medium).ratio();
            (max_output as f64 * ratio) as u64
        });
        wanted.clamp(min, max.max(min))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRouterWire<'a> {
    #[serde(borrow, default)]
    effort: Option<Cow<'a, str>>,
    #[serde(default)]
    max_tokens: Option<u64>,
    #[serde(default)]
    exclude: Option<bool>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// Reads `reasoning_effort` and `reasoning`; `None` when neither is present.
pub fn parse(
    effort: Option<&str>,
    reasoning: Option<&RawValue>,
) -> Result<Option<Ask>, GatewayError> {
    let effort = effort
        .map(|e| {
            Effort::parse(e).ok_or_else(|| {
                GatewayError::bad_param(
                    "reasoning_effort",
                    format!(
                        "Invalid value for 'reasoning_effort': '{e}'. Supported values are: \
                         'none', 'minimal', 'low', 'medium', 'high' and 'xhigh'."
                    ),
                )
            })
        })
        .transpose()?;
    let Some(raw) = reasoning.filter(|r| r.get().trim() != "null") else {
        return Ok(effort.map(|e| Ask {
            effort: Some(e),
            max_tokens: None,
            exclude: false,
        }));
    };
    let wire: OpenRouterWire<'_> = serde_json::from_str(raw.get()).map_err(|e| {
        GatewayError::bad_param(
            "reasoning",
            format!(
                "Invalid 'reasoning': {e}; expected {{\"effort\": \"low\"|\"medium\"|\"high\", \
                 \"max_tokens\": N, \"exclude\": bool, \"enabled\": bool}}."
            ),
        )
    })?;
    let inner = wire
        .effort
        .as_deref()
        .map(|e| {
            Effort::parse(e).ok_or_else(|| {
                GatewayError::bad_param(
                    "reasoning.effort",
                    format!("Invalid 'reasoning.effort': '{e}'."),
                )
            })
        })
        .transpose()?;
    let mut ask = Ask {
        effort: effort.or(inner),
        max_tokens: wire.max_tokens,
        exclude: wire.exclude.unwrap_or(false),
    };
    match wire.enabled {
        Some(false) if ask.effort.is_none() && ask.max_tokens.is_none() => {
            ask.effort = Some(Effort::None)
        }
        Some(true) if ask.effort.is_none() && ask.max_tokens.is_none() => {
            ask.effort = Some(Effort::Medium)
        }
        _ => {}
    }
    Ok(Some(ask))
}

/// One signed thinking block of an assistant turn, in either dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thought<'a> {
    /// Reasoning text and the provider's signature over it.
    Text {
        text: Cow<'a, str>,
        signature: Option<Cow<'a, str>>,
    },
    /// Reasoning the provider returned encrypted (Anthropic `redacted_thinking`).
    Redacted { data: Cow<'a, str> },
}

/// `reasoning_details[]` (OpenRouter) or `thinking_blocks[]` (LiteLLM) entries.
#[derive(Debug, Deserialize)]
pub struct ThoughtWire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
}

impl<'a> ThoughtWire<'a> {
    /// The block, or `None` for kinds that carry nothing to send back (`reasoning.summary`).
    pub fn to_thought(&self) -> Option<Thought<'a>> {
        match self.kind.as_ref() {
            "reasoning.text" | "thinking" => Some(Thought::Text {
                text: self
                    .text
                    .clone()
                    .or(self.thinking.clone())
                    .unwrap_or_default(),
                signature: self.signature.clone().filter(|s| !s.is_empty()),
            }),
            "reasoning.encrypted" | "redacted_thinking" => {
                self.data.clone().map(|data| Thought::Redacted { data })
            }
            _ => None,
        }
    }
}

/// The `format` tag of the reasoning details the gateway writes.
pub const DETAIL_FORMAT: &str = "anthropic-claude-v1";

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn effort_and_openrouter_forms() {
        assert_eq!(parse(None, None).unwrap(), None);
        let a = parse(Some("high"), None).unwrap().unwrap();
        assert!(a.enabled());
        assert_eq!(a.effort(), Effort::High);
        assert!(!parse(Some("none"), None).unwrap().unwrap().enabled());
        let e = parse(Some("maximal"), None).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("reasoning_effort"));
        let r = raw(r#"{"max_tokens": 3000, "exclude": true}"#);
        let a = parse(None, Some(&r)).unwrap().unwrap();
        assert_eq!(
            (a.max_tokens, a.exclude, a.effort()),
            (Some(3000), true, Effort::Low)
        );
        let r = raw(r#"{"enabled": false}"#);
        assert!(!parse(None, Some(&r)).unwrap().unwrap().enabled());
        let r = raw(r#"{"enabled": true}"#);
        assert_eq!(
            parse(None, Some(&r)).unwrap().unwrap().effort(),
            Effort::Medium
        );
        let r = raw(r#"{"effort": "loud"}"#);
        assert_eq!(
            parse(None, Some(&r)).unwrap_err().param.as_deref(),
            Some("reasoning.effort")
        );
        let r = raw(r#"{"budget": 1}"#);
        assert_eq!(
            parse(None, Some(&r)).unwrap_err().param.as_deref(),
            Some("reasoning")
        );
    }

    /// Budgets follow the effort's share of the cap, clamped to the target's range.
    #[test]
    fn budgets() {
        let ask = |effort, max_tokens| Ask {
            effort,
            max_tokens,
            exclude: false,
        };
        assert_eq!(
            ask(Some(Effort::High), None).budget(10_000, 1_024, 32_000),
            8_000
        );
        assert_eq!(
            ask(Some(Effort::Low), None).budget(2_000, 1_024, 32_000),
            1_024
        );
        assert_eq!(ask(None, Some(50_000)).budget(4_096, 1_024, 32_000), 32_000);
        assert_eq!(ask(None, Some(5_000)).budget(4_096, 0, 24_576), 5_000);
    }

    #[test]
    fn thoughts_in_both_dialects() {
        let or: ThoughtWire<'_> = serde_json::from_str(
            r#"{"type":"reasoning.text","text":"t","signature":"s","format":"anthropic-claude-v1","index":0}"#,
        )
        .unwrap();
        let ll: ThoughtWire<'_> =
            serde_json::from_str(r#"{"type":"thinking","thinking":"t","signature":"s"}"#).unwrap();
        assert_eq!(or.to_thought(), ll.to_thought());
        let red: ThoughtWire<'_> =
            serde_json::from_str(r#"{"type":"redacted_thinking","data":"xyz"}"#).unwrap();
        assert_eq!(
            red.to_thought(),
            Some(Thought::Redacted { data: "xyz".into() })
        );
        let sum: ThoughtWire<'_> =
            serde_json::from_str(r#"{"type":"reasoning.summary","summary":"x"}"#).unwrap();
        assert_eq!(sum.to_thought(), None);
    }
}
