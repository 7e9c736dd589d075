//! Redaction of captured prompts and responses before they are queued for the audit file.
//!
//! Always applied, in this order: exact secrets registered with [`Redactor::with_secrets`]
//! (every configured provider key and admin token), then the built-in patterns (OpenAI
//! `sk-…`, Anthropic `sk-ant-…`, Switchyard `sy-…` keys, AWS access key ids `AKIA…`/`ASIA…`,
//! `Bearer <token>`, Google `AIza…` keys), then the configured rules in file order. Secrets are
//! matched as raw text: a secret that appears JSON-escaped differently in a body (`\/` for `/`)
//! is not recognised, but the built-in patterns still catch the common key shapes.

use regex::Regex;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// What replaces a registered secret.
pub const SECRET_MARK: &str = "[REDACTED:secret]";

/// A configured redaction: every match of `pattern` becomes `replace` (which may refer to
/// capture groups as `$1` or `${name}`, as in the `regex` crate; `$$` is a literal `$`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactRule {
    pub pattern: String,
    #[serde(default = "default_replace")]
    pub replace: String,
}

fn default_replace() -> String {
    "[REDACTED]".into()
}

/// The built-in rules: (name, pattern, replacement). Specific shapes come before general ones.
const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "anthropic_key",
        r"\bsk-ant-[A-Za-z0-9_\-]{8,}",
        "[REDACTED:anthropic_key]",
    ),
    (
        "openai_key",
        r"\bsk-[A-Za-z0-9_\-]{16,}",
        "[REDACTED:openai_key]",
    ),
    (
        "switchyard_key",
        r"\bsy-[A-Za-z0-9_\-]{16,}",
        "[REDACTED:switchyard_key]",
    ),
    (
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        "[REDACTED:aws_access_key_id]",
    ),
    (
        "bearer_token",
        r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}",
        "$1 [REDACTED]",
    ),
    (
        "google_api_key",
        r"\bAIza[0-9A-Za-z_\-]{35}",
        "[REDACTED:google_api_key]",
    ),
];

/// Compiled redaction rules. `Debug` shows counts only, never the secrets.
#[derive(Clone)]
pub struct Redactor {
    secrets: Option<Regex>,
    /// The registered secrets, regex-escaped (never shown).
    secret_alts: Vec<String>,
    rules: Vec<(Regex, String)>,
    custom: usize,
    /// The secrets could not be compiled: nothing may be captured.
    disabled: bool,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secret_alts.len())
            .field("built_in_rules", &BUILT_IN.len())
            .field("custom_rules", &self.custom)
            .finish()
    }
}

impl Redactor {
    /// The built-in rules plus `rules`. The error names the first invalid pattern by index
    /// (not by content: a pattern may itself contain a secret).
    pub fn new(rules: &[RedactRule]) -> Result<Self, String> {
        let mut compiled = Vec::with_capacity(BUILT_IN.len() + rules.len());
        for (name, pattern, replace) in BUILT_IN {
            let re = Regex::new(pattern).map_err(|e| format!("built-in rule {name}: {e}"))?;
            compiled.push((re, (*replace).to_string()));
        }
        for (i, rule) in rules.iter().enumerate() {
            let re = Regex::new(&rule.pattern)
                .map_err(|_| format!("audit redact rule #{}: invalid regex pattern", i + 1))?;
            compiled.push((re, rule.replace.clone()));
        }
        Ok(Self {
            secrets: None,
            secret_alts: Vec::new(),
            rules: compiled,
            custom: rules.len(),
            disabled: false,
        })
    }

    /// Also replaces every occurrence of each of `secrets` (exact text; empty ones are
    /// ignored) with [`SECRET_MARK`]. Adds to secrets registered before.
    pub fn with_secrets(mut self, secrets: &[&str]) -> Self {
        self.secret_alts.extend(
            secrets
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| regex::escape(s)),
        );
        // Longest first, so a secret that is a prefix of another leaves no tail behind.
        self.secret_alts
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.secret_alts.dedup();
        // Escaped literals always compile; the size limit is the only way to fail.
        self.secrets = if self.secret_alts.is_empty() {
            None
        } else {
            match regex::RegexBuilder::new(&self.secret_alts.join("|"))
                .size_limit(1 << 26)
                .build()
            {
                Ok(re) => Some(re),
                Err(_) => {
                    log::error!(
                        "audit: {} registered secrets are too many to match at once; captured \
                         texts are replaced entirely",
                        self.secret_alts.len()
                    );
                    self.disabled = true;
                    None
                }
            }
        };
        self
    }

    /// `text` with every secret and rule match replaced (everything, if the secrets could not
    /// be compiled: nothing unredacted is ever returned).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.disabled {
            return Cow::Borrowed(SECRET_MARK);
        }
        let mut out = Cow::Borrowed(text);
        if let Some(re) = &self.secrets {
            if let Cow::Owned(s) = re.replace_all(&out, regex::NoExpand(SECRET_MARK)) {
                out = Cow::Owned(s);
            }
        }
        for (re, replace) in &self.rules {
            if let Cow::Owned(s) = re.replace_all(&out, replace.as_str()) {
                out = Cow::Owned(s);
            }
        }
        out
    }
}

/// Text kept past the cap before redacting, so a secret that starts before the cap is still
/// recognised whole (secrets and tokens are far shorter).
pub const REDACT_MARGIN: usize = 4096;

/// Redacts `text` and caps the result at `max_bytes` ([`cap`]). Only the first
/// `max_bytes + REDACT_MARGIN` bytes are scanned: large bodies cost no more than small ones.
pub fn redact_capped(redactor: &Redactor, text: &str, max_bytes: usize) -> String {
    let scanned = prefix(text, max_bytes.saturating_add(REDACT_MARGIN));
    cap(&redactor.redact(scanned), max_bytes)
}

/// At most `max_bytes` of `text`, cut at a UTF-8 boundary, followed by [`TRUNCATED`] when
/// anything was cut.
pub fn cap(text: &str, max_bytes: usize) -> String {
    let kept = prefix(text, max_bytes);
    if kept.len() == text.len() {
        return text.to_string();
    }
    let mut out = String::with_capacity(kept.len() + TRUNCATED.len());
    out.push_str(kept);
    out.push_str(TRUNCATED);
    out
}

/// The longest prefix of `text` of at most `max_bytes` that ends at a UTF-8 boundary.
fn prefix(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Appended to a capped text.
pub const TRUNCATED: &str = "…[truncated]";
