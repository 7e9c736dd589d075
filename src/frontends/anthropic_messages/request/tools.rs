//! Anthropic `tools`, `tool_choice` and `disable_parallel_tool_use` → OpenAI `tools`,
//! `tool_choice` and `parallel_tool_calls`.
//!
//! Custom tools (no `type`, or `custom`) become functions; tools marked `defer_loading` are
//! offered from the start (the translated provider has no tool search to load them later).
//! Server tools (any other `type`: `web_search_…`, `bash_…`, `text_editor_…`,
//! `computer_…`, …) run on Anthropic's servers, so they are refused with a 400 naming the
//! tool.

use super::{MessagesRequest, decode};
use crate::error::GatewayError;
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Deserialize)]
struct InTool {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    input_schema: Option<Value>,
    #[serde(default)]
    cache_control: Option<Value>,
}

#[derive(Deserialize)]
struct InToolChoice {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    disable_parallel_tool_use: Option<bool>,
}

/// `tools`, `tool_choice` and `parallel_tool_calls`.
pub(super) fn tools(
    req: &MessagesRequest<'_>,
    out: &mut Map<String, Value>,
) -> Result<(), GatewayError> {
    let list: Vec<InTool> = match req.tools {
        Some(raw) if raw.get() != "null" => decode(raw.get(), "tools")?,
        _ => Vec::new(),
    };
    let mut defs = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        if let Some(kind) = t.kind.as_deref().filter(|k| *k != "custom") {
            return Err(GatewayError::bad_param(
                format!("tools.{i}.type"),
                format!(
                    "tools.{i}: '{kind}' (tool '{}') is not supported on model '{}': server tools run on Anthropic's servers, and this model is served by a provider that cannot run them. Use custom tools (no `type`, or `\"type\": \"custom\"`) instead.",
                    t.name,
                    req.model()
                ),
            ));
        }
        let params = t
            .input_schema
            .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
        let mut f = Map::new();
        f.insert("name".into(), Value::String(t.name));
        if let Some(d) = t.description {
            f.insert("description".into(), Value::String(d));
        }
        f.insert("parameters".into(), params);
        let mut def = json!({"type": "function", "function": f});
        if let (Some(cc), Value::Object(o)) = (t.cache_control, &mut def) {
            o.insert("cache_control".into(), cc);
        }
        defs.push(def);
    }
    let has_tools = !defs.is_empty();
    if has_tools {
        out.insert("tools".into(), Value::Array(defs));
    }
    let Some(raw) = req.tool_choice.filter(|r| r.get() != "null") else {
        return Ok(());
    };
    let choice: InToolChoice = decode(raw.get(), "tool_choice")?;
    let mapped = match choice.kind.as_str() {
        "auto" => json!("auto"),
        "any" => json!("required"),
        "none" => json!("none"),
        "tool" => {
            let name = choice.name.clone().ok_or_else(|| {
                GatewayError::bad_param("tool_choice.name", "tool_choice.name: Field required")
            })?;
            json!({"type": "function", "function": {"name": name}})
        }
        other => {
            return Err(GatewayError::bad_param(
                "tool_choice.type",
                format!("tool_choice.type: unknown tool choice `{other}`"),
            ));
        }
    };
    if has_tools {
        out.insert("tool_choice".into(), mapped);
        if choice.disable_parallel_tool_use == Some(true) {
            out.insert("parallel_tool_calls".into(), Value::Bool(false));
        }
    }
    Ok(())
}
