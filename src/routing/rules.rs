//! Route matching rules: a pure matcher over facts of one request.
//!
//! # Order
//! Rules are tried in config order (one per route, the route's `match:`); the first rule whose
//! every condition holds names the route. Put specific rules before general ones; an empty
//! `match: {}` is a catch-all and belongs last. Inside a rule, cheap conditions are checked
//! first and the regex last. The YAML shape is documented in [`raw`].
//!
//! # Use from the request path
//! ```text
//! at config load:  RouteMatcher::compile(&raw_rules)?   (RuleError names the route and field)
//! per request:     matcher.first_match(&RequestFacts { model, team, tags, has_tools,
//!                      prompt_tokens, last_user_message, headers, metadata })  -> Option<usize>
//! ```
//! The token count is an input (an estimate computed by the caller); nothing here tokenizes.
//! Regexes use the `regex` crate (linear time in the input, no backtracking), compiled once
//! with a 1 MiB program and DFA size limit and a 1,000-character pattern limit.

mod glob;
pub mod raw;
#[cfg(test)]
mod tests;

pub use glob::Glob;
pub use raw::{OneOrMany, RawHeader, RawRule, RawTokens};

use http::{HeaderMap, HeaderName};
use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

/// Longest accepted regex pattern, in characters.
pub const MAX_REGEX_LEN: usize = 1000;
/// Size limit of a compiled regex (program and lazy DFA), in bytes.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// What the matcher may look at in one request. Every field has an "absent" default.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// The requested model, after suffixes such as `:floor` are removed.
    pub model: &'a str,
    /// The calling key's team.
    pub team: Option<&'a str>,
    /// The calling key's tags.
    pub tags: &'a [String],
    /// The request declares at least one tool.
    pub has_tools: bool,
    /// Estimated prompt tokens.
    pub prompt_tokens: u64,
    /// Text of the last `user` message.
    pub last_user_message: Option<&'a str>,
    pub headers: Option<&'a HeaderMap>,
    /// The body's `metadata` object.
    pub metadata: Option<&'a Map<String, Value>>,
}

/// A rule that failed to compile: which rule, which field, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Index of the rule (route) in config order.
    pub rule: usize,
    /// The field under `match:` (`last_user_message`, `headers.x-tier`, …).
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "routes[{}].match.{}: {}",
            self.rule, self.field, self.message
        )
    }
}

impl std::error::Error for RuleError {}

#[derive(Debug, Clone)]
enum HeaderCond {
    Equals(String),
    Present(bool),
}

/// One compiled `match:`.
#[derive(Debug, Clone)]
pub struct Rule {
    models: Vec<Glob>,
    teams: Vec<String>,
    tags: Vec<String>,
    tools: Option<bool>,
    above: Option<u64>,
    below: Option<u64>,
    headers: Vec<(HeaderName, HeaderCond)>,
    metadata: Vec<(String, String)>,
    last_user: Option<Regex>,
}

impl Rule {
    /// Compiles one raw rule; `index` only labels errors.
    pub fn compile(index: usize, raw: &RawRule) -> Result<Self, RuleError> {
        let err = |field: &str, message: String| RuleError {
            rule: index,
            field: field.to_owned(),
            message,
        };
        let last_user = match &raw.last_user_message {
            None => None,
            Some(p) if p.chars().count() > MAX_REGEX_LEN => {
                return Err(err(
                    "last_user_message",
                    format!("pattern longer than {MAX_REGEX_LEN} characters"),
                ));
            }
            Some(p) => Some(
                RegexBuilder::new(p)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| err("last_user_message", e.to_string()))?,
            ),
        };
        let mut headers = Vec::with_capacity(raw.headers.len());
        for (name, cond) in &raw.headers {
            let field = format!("headers.{name}");
            let n = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| err(&field, "not a valid header name".to_owned()))?;
            headers.push((
                n,
                match cond {
                    RawHeader::Equals(v) => HeaderCond::Equals(v.clone()),
                    RawHeader::Present { present } => HeaderCond::Present(*present),
                },
            ));
        }
        let (above, below) = raw
            .prompt_tokens
            .map_or((None, None), |t| (t.above, t.below));
        if let (Some(a), Some(b)) = (above, below) {
            if b <= a.saturating_add(1) {
                return Err(err(
                    "prompt_tokens",
                    format!("no token count is above {a} and below {b}"),
                ));
            }
        }
        if raw.model.items().iter().any(String::is_empty) {
            return Err(err("model", "empty model pattern".to_owned()));
        }
        Ok(Self {
            models: raw.model.items().iter().map(|p| Glob::new(p)).collect(),
            teams: raw.team.items().to_vec(),
            tags: raw.tags.items().to_vec(),
            tools: raw.tools,
            above,
            below,
            headers,
            metadata: raw
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            last_user,
        })
    }

    /// Whether the rule's model condition holds (cheap pre-check before costly facts).
    pub fn matches_model(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|g| g.matches(model))
    }

    /// Whether the rule looks at the estimated prompt tokens.
    pub fn needs_prompt_tokens(&self) -> bool {
        self.above.is_some() || self.below.is_some()
    }

    /// Whether the rule looks at the last user message.
    pub fn needs_last_user_message(&self) -> bool {
        self.last_user.is_some()
    }

    /// Whether the rule looks at the body's `metadata`.
    pub fn needs_metadata(&self) -> bool {
        !self.metadata.is_empty()
    }

    /// Whether every condition holds for `f`.
    pub fn matches(&self, f: &RequestFacts<'_>) -> bool {
        (self.models.is_empty() || self.models.iter().any(|g| g.matches(f.model)))
            && (self.teams.is_empty() || f.team.is_some_and(|t| self.teams.iter().any(|x| x == t)))
            && (self.tags.is_empty() || f.tags.iter().any(|t| self.tags.contains(t)))
            && self.tools.is_none_or(|want| want == f.has_tools)
            && self.above.is_none_or(|a| f.prompt_tokens > a)
            && self.below.is_none_or(|b| f.prompt_tokens < b)
            && self
                .headers
                .iter()
                .all(|(n, c)| header_holds(f.headers, n, c))
            && self
                .metadata
                .iter()
                .all(|(k, v)| metadata_equals(f.metadata, k, v))
            && self
                .last_user
                .as_ref()
                .is_none_or(|re| f.last_user_message.is_some_and(|m| re.is_match(m)))
    }
}

fn header_holds(headers: Option<&HeaderMap>, name: &HeaderName, cond: &HeaderCond) -> bool {
    let mut values = headers.into_iter().flat_map(|h| h.get_all(name).iter());
    match cond {
        HeaderCond::Present(want) => values.next().is_some() == *want,
        HeaderCond::Equals(v) => values.any(|x| x.as_bytes() == v.as_bytes()),
    }
}

fn metadata_equals(meta: Option<&Map<String, Value>>, key: &str, want: &str) -> bool {
    match meta.and_then(|m| m.get(key)) {
        Some(Value::String(s)) => s == want,
        Some(Value::Number(n)) => want.parse::<serde_json::Number>().is_ok_and(|w| w == *n),
        Some(Value::Bool(b)) => want == if *b { "true" } else { "false" },
        _ => false,
    }
}

/// The compiled rules of all routes, in config order.
#[derive(Debug, Clone, Default)]
pub struct RouteMatcher {
    rules: Vec<Rule>,
}

impl RouteMatcher {
    /// Compiles one rule per route (rule `i` names route `i`); the first error is returned.
    pub fn compile(raw: &[RawRule]) -> Result<Self, RuleError> {
        let rules = raw
            .iter()
            .enumerate()
            .map(|(i, r)| Rule::compile(i, r))
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// The index of the first route whose rule matches.
    pub fn first_match(&self, facts: &RequestFacts<'_>) -> Option<usize> {
        self.rules.iter().position(|r| r.matches(facts))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}
