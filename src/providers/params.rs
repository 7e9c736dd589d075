//! Parameters a provider cannot honour: one deliberate behaviour per parameter, configurable
//! per provider (`unsupported_params`, `params.<name>`).
//!
//! Defaults: a parameter whose absence changes what the client gets back (`n` > 1,
//! `logprobs`, a structured `response_format` on a kind that could not express it — none today,
//! see `providers::structured`) is rejected with a 400 naming it; best-effort hints (`seed`,
//! penalties, `logit_bias`, `user`) are dropped. A rejection is per target: the attempt loop
//! tries the route's next target.

use crate::error::GatewayError;
use crate::providers::settings::{ParamAction, ProviderSettings};
use crate::translate::request::ChatRequest;

/// Every parameter the policy can name.
pub const KNOWN: [&str; 8] = [
    "n",
    "logprobs",
    "response_format",
    "logit_bias",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "user",
];

/// The documented default for `param`.
pub fn default_action(param: &str) -> ParamAction {
    match param {
        "n" | "logprobs" | "response_format" => ParamAction::Reject,
        _ => ParamAction::Drop,
    }
}

/// True when the request actually uses `param` (a value that asks for something).
fn used(req: &ChatRequest<'_>, param: &str) -> bool {
    let raw_set = |v: Option<&serde_json::value::RawValue>| {
        v.is_some_and(|r| !matches!(r.get().trim(), "null" | "{}"))
    };
    match param {
        "n" => req.n.is_some_and(|n| n > 1),
        "logprobs" => req.logprobs == Some(true) || req.top_logprobs.is_some_and(|n| n > 0),
        "response_format" => req.response_format.is_some_and(|rf| {
            let kind = serde_json::from_str::<serde_json::Value>(rf.get())
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str().map(str::to_owned)));
            rf.get().trim() != "null" && kind.as_deref() != Some("text")
        }),
        "logit_bias" => raw_set(req.logit_bias),
        "seed" => req.seed.is_some(),
        "presence_penalty" => req.presence_penalty.is_some_and(|p| p != 0.0),
        "frequency_penalty" => req.frequency_penalty.is_some_and(|p| p != 0.0),
        "user" => req.user.as_deref().is_some_and(|u| !u.is_empty()),
        _ => false,
    }
}

/// Applies `provider`'s policy to the parameters its kind cannot honour (`unsupported`,
/// names from [`KNOWN`]). `Ok` means every such parameter is absent or is to be dropped:
/// the translator simply does not send it; `Ok` lists the dropped ones the request used (the
/// response reports them as lossy). `api` names the provider's API in the message.
pub fn check(
    provider: &ProviderSettings,
    req: &ChatRequest<'_>,
    unsupported: &[&'static str],
    api: &str,
) -> Result<Vec<&'static str>, GatewayError> {
    let mut dropped = Vec::new();
    for param in unsupported {
        if !used(req, param) {
            continue;
        }
        if provider.params.action(param, default_action(param)) == ParamAction::Reject {
            return Err(GatewayError::bad_param(
                param.to_string(),
                format!(
                    "provider {} ({api}) does not support '{param}'; remove it, or set \
                     params.{param}: drop for this provider to have the gateway drop it",
                    provider.name
                ),
            ));
        }
        dropped.push(*param);
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::settings::ParamPolicy;
    use crate::providers::testutil::provider;

    fn req(body: &str) -> ChatRequest<'_> {
        ChatRequest::parse(body.as_bytes()).unwrap()
    }

    /// Defaults: semantic parameters are rejected by name, hints are dropped; overrides win.
    #[test]
    fn defaults_and_overrides() {
        let mut p = provider(crate::providers::settings::ProviderKind::Anthropic);
        let all = &KNOWN[..];
        let n2 = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}"#;
        let e = check(&p, &req(n2), all, "Test API").unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("n")));
        assert!(e.message.contains("'n'"));
        let seed = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"seed":7,"n":1}"#;
        // Dropped parameters the request used are listed (the response reports them).
        assert_eq!(
            check(&p, &req(seed), all, "Test API").unwrap(),
            vec!["seed"]
        );
        // Only the listed parameters are checked.
        assert!(check(&p, &req(n2), &["seed"], "Test API").is_ok());
        p.params = ParamPolicy {
            all: None,
            overrides: vec![
                ("seed".into(), ParamAction::Reject),
                ("n".into(), ParamAction::Drop),
            ],
        };
        assert!(check(&p, &req(n2), all, "Test API").is_ok());
        let e = check(&p, &req(seed), all, "Test API").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("seed"));
        p.params = ParamPolicy {
            all: Some(ParamAction::Drop),
            overrides: vec![],
        };
        let lp = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true,"response_format":{"type":"json_object"}}"#;
        assert!(check(&p, &req(lp), all, "Test API").is_ok());
        // A text response_format asks for nothing.
        p.params = ParamPolicy::default();
        let text = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}"#;
        assert!(check(&p, &req(text), all, "Test API").is_ok());
    }
}
