//! Extended thinking as the real Messages API checks it: `thinking` well-formed, the budget at
//! least 1,024 and below `max_tokens`, no temperature other than 1, no forced tool, signed
//! thinking blocks only, and a final assistant tool-use turn that opens with its thinking.

use super::bad;
use crate::error::ApiError;
use crate::scenario::THINKING_SIGNATURE;
use serde_json::{Map, Value};

const DOCS: &str = "Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking";

/// True when the request enables thinking (validated like the real API).
pub fn check(obj: &Map<String, Value>, messages: &[Value]) -> Result<bool, ApiError> {
    verify_signatures(messages)?;
    let Some(t) = obj.get("thinking").filter(|t| !t.is_null()) else {
        return Ok(false);
    };
    match t.get("type").and_then(Value::as_str) {
        Some("disabled") => return Ok(false),
        Some("adaptive") => {}
        Some("enabled") => budget(t, obj)?,
        Some(other) => {
            return Err(bad(format!(
                "thinking: Input tag '{other}' found using 'type' does not match any of the expected tags: 'adaptive', 'disabled', 'enabled'"
            )));
        }
        None => return Err(bad("thinking.type: Field required")),
    }
    if obj
        .get("temperature")
        .and_then(Value::as_f64)
        .is_some_and(|t| t != 1.0)
    {
        return Err(bad(format!(
            "`temperature` may only be set to 1 when thinking is enabled or in interleaved thinking mode. {DOCS}"
        )));
    }
    if matches!(
        obj.get("tool_choice")
            .and_then(|c| c.get("type"))
            .and_then(Value::as_str),
        Some("any" | "tool")
    ) {
        return Err(bad(
            "Thinking may not be enabled when tool_choice forces tool use.",
        ));
    }
    final_turn_opens_with_thinking(messages)?;
    Ok(true)
}

fn budget(t: &Value, obj: &Map<String, Value>) -> Result<(), ApiError> {
    let b = t
        .get("budget_tokens")
        .ok_or_else(|| bad("thinking.enabled.budget_tokens: Field required"))?
        .as_u64()
        .ok_or_else(|| bad("thinking.enabled.budget_tokens: Input should be a valid integer"))?;
    if b < 1024 {
        return Err(bad(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ));
    }
    let max = obj.get("max_tokens").and_then(Value::as_u64).unwrap_or(0);
    if max <= b {
        return Err(bad(format!(
            "`max_tokens` must be greater than `thinking.budget_tokens`. {DOCS}#max-tokens-and-context-window-size"
        )));
    }
    Ok(())
}

/// Thinking blocks sent back must carry the signature this emulator issued.
fn verify_signatures(messages: &[Value]) -> Result<(), ApiError> {
    for (i, m) in messages.iter().enumerate() {
        let blocks = m.get("content").and_then(Value::as_array);
        for (j, b) in blocks.into_iter().flatten().enumerate() {
            if b.get("type").and_then(Value::as_str) != Some("thinking") {
                continue;
            }
            if b.get("signature").and_then(Value::as_str) != Some(THINKING_SIGNATURE) {
                return Err(bad(format!(
                    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                )));
            }
        }
    }
    Ok(())
}

/// The last assistant turn with a `tool_use` must start with a thinking block.
fn final_turn_opens_with_thinking(messages: &[Value]) -> Result<(), ApiError> {
    let last = messages.iter().enumerate().rev().find(|(_, m)| {
        m.get("role").and_then(Value::as_str) == Some("assistant")
            && m.get("content").and_then(Value::as_array).is_some_and(|b| {
                b.iter()
                    .any(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
            })
    });
    let Some((i, m)) = last else { return Ok(()) };
    let first = m
        .get("content")
        .and_then(Value::as_array)
        .and_then(|b| b.first())
        .and_then(|b| b.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if matches!(first, "thinking" | "redacted_thinking") {
        return Ok(());
    }
    Err(bad(format!(
        "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. {DOCS}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(v: Value) -> Result<bool, String> {
        let obj = v.as_object().unwrap();
        let msgs = obj["messages"].as_array().unwrap();
        check(obj, msgs).map_err(|e| e.message)
    }

    #[test]
    fn rules_of_the_real_api() {
        let user = json!([{"role": "user", "content": "hi"}]);
        assert_eq!(run(json!({"max_tokens": 10, "messages": user})), Ok(false));
        let on = json!({"type": "enabled", "budget_tokens": 2048});
        assert_eq!(
            run(json!({"max_tokens": 4096, "thinking": on, "messages": user})),
            Ok(true)
        );
        assert!(
            run(json!({"max_tokens": 2048, "thinking": on, "messages": user}))
                .unwrap_err()
                .contains("must be greater")
        );
        let low = json!({"type": "enabled", "budget_tokens": 100});
        assert!(
            run(json!({"max_tokens": 4096, "thinking": low, "messages": user}))
                .unwrap_err()
                .contains("1024")
        );
        assert!(
            run(json!({"max_tokens": 4096, "thinking": on, "temperature": 0.2, "messages": user}))
                .unwrap_err()
                .contains("temperature")
        );
        assert!(run(json!({"max_tokens": 4096, "thinking": on, "tool_choice": {"type": "any"}, "messages": user})).unwrap_err().contains("forces tool use"));
        let unsigned = json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}]}
        ]);
        assert!(
            run(json!({"max_tokens": 4096, "thinking": on, "messages": unsigned}))
                .unwrap_err()
                .contains("Expected `thinking`")
        );
        let forged = json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "x", "signature": "forged"}, {"type": "text", "text": "a"}]},
            {"role": "user", "content": "again"}
        ]);
        assert!(
            run(json!({"max_tokens": 10, "messages": forged}))
                .unwrap_err()
                .contains("Invalid `signature`")
        );
    }
}
