//! Structured output (`response_format` `json_object` / `json_schema`) for kinds whose API has
//! no OpenAI-style field for it (docs/wire/mapping.md, "Structured output").
//!
//! Two ways to get JSON back: the kind's native schema field where the catalog says the model
//! has one (Anthropic `output_config.format`), else the *answer tool*: a single tool named
//! [`ANSWER_TOOL`] whose input schema is the requested schema, which the model is made to call;
//! the decoders turn that call back into the message content (never a tool call).

use crate::error::GatewayError;
use crate::providers::convert::{self, ResponseFormat};
use crate::translate::request::{ChatRequest, Tool, ToolChoice};
use serde_json::{Map, Value};

pub mod refs;

/// The answer tool's name; a client tool of that name is refused while it is in use.
pub const ANSWER_TOOL: &str = "json_answer";

/// The answer tool's description, telling the model what calling it means.
pub const ANSWER_TOOL_DESCRIPTION: &str =
    "Give your final answer by calling this tool: its input is the answer, as JSON.";

/// The catalog capability saying a model takes a JSON Schema natively.
pub const NATIVE_CAPABILITY: &str = "response_schema";

/// How a request's structured output is sent.
#[derive(Debug, PartialEq)]
pub enum Structured {
    /// Free text: nothing to send.
    None,
    /// The kind's native schema field, with this (normalised) schema.
    Native(Value),
    /// The answer tool, with this input schema.
    Tool(Value),
}

/// What `req` asks for, sent natively when `native` (the model takes schemas) and the schema
/// only uses what native structured output accepts ([`native_schema`]), else by answer tool.
pub fn plan(req: &ChatRequest<'_>, native: bool) -> Result<Structured, GatewayError> {
    let raw = match convert::response_format(req)? {
        ResponseFormat::Text => return Ok(Structured::None),
        ResponseFormat::JsonObject | ResponseFormat::JsonSchema(None) => {
            return Ok(Structured::Tool(any_object()));
        }
        ResponseFormat::JsonSchema(Some(raw)) => raw,
    };
    let schema = root_object(raw.get())?;
    match refs::check(&schema, SCHEMA_PATH) {
        Some(refs::RefProblem::Unresolved(at)) => return Err(unresolved(at)),
        // Native structured output refuses recursive schemas; a tool's input schema may be.
        Some(refs::RefProblem::Recursive(_)) => return Ok(Structured::Tool(schema)),
        None => {}
    }
    if native {
        if let Some(s) = native_schema(&schema) {
            return Ok(Structured::Native(s));
        }
    }
    Ok(Structured::Tool(schema))
}

/// A 400 for a `$ref` that is not local or points at nothing, naming its JSON path.
pub fn unresolved(at: String) -> GatewayError {
    GatewayError::bad_param(
        at,
        "only local references into the schema itself ('#/$defs/Name') are supported, and \
         this one points at nothing",
    )
}

/// `{"type":"object"}`: the schema of `json_object` (any JSON object).
fn any_object() -> Value {
    serde_json::json!({"type": "object"})
}

pub const SCHEMA_PATH: &str = "response_format.json_schema.schema";

/// The schema as an object schema: tool inputs must be JSON objects, as OpenAI requires of
/// structured-output roots too; a missing root `type` means `object`.
fn root_object(text: &str) -> Result<Value, GatewayError> {
    let mut schema: Map<String, Value> = serde_json::from_str(text).map_err(|_| {
        GatewayError::bad_param(SCHEMA_PATH, "the schema must be a JSON Schema object")
    })?;
    let ty = schema
        .entry("type")
        .or_insert_with(|| Value::String("object".into()));
    if ty.as_str() != Some("object") {
        return Err(GatewayError::bad_param(
            format!("{SCHEMA_PATH}.type"),
            "the root of a structured-output schema must be of type 'object'",
        ));
    }
    Ok(Value::Object(schema))
}

/// Keywords native structured output (Anthropic, Bedrock) does not take: numeric and string
/// bounds, array bounds other than `minItems` 0 or 1.
const NATIVE_UNSUPPORTED: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
    "patternProperties",
];

/// The schema as native structured output takes it: every object closed with
/// `additionalProperties: false` where it says nothing. `None` when it uses a keyword native
/// structured output refuses (then the answer tool, which takes any schema, carries it).
pub fn native_schema(schema: &Value) -> Option<Value> {
    let mut out = schema.clone();
    close_objects(&mut out).then_some(out)
}

/// Closes the objects of `v` in place; false when some keyword is not native-compatible.
fn close_objects(v: &mut Value) -> bool {
    match v {
        Value::Array(items) => items.iter_mut().all(close_objects),
        Value::Object(map) => {
            if NATIVE_UNSUPPORTED.iter().any(|k| map.contains_key(*k)) {
                return false;
            }
            if map
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|n| n > 1)
            {
                return false;
            }
            let is_object = map.get("type").and_then(Value::as_str) == Some("object")
                || map.contains_key("properties");
            if is_object {
                match map.get("additionalProperties") {
                    None => {
                        map.insert("additionalProperties".into(), Value::Bool(false));
                    }
                    Some(Value::Bool(false)) => {}
                    Some(_) => return false,
                }
            }
            // `properties`, `$defs`, `definitions` map names to schemas; every other value
            // that is an object or array holds schemas (`items`, `anyOf`, …) or plain data
            // (`enum`, `const`, `default`), which the walk leaves as it is.
            map.iter_mut().all(|(k, child)| match k.as_str() {
                "enum" | "const" | "default" | "examples" | "required" => true,
                "properties" | "$defs" | "definitions" => match child {
                    Value::Object(m) => m.values_mut().all(close_objects),
                    _ => true,
                },
                _ => close_objects(child),
            })
        }
        _ => true,
    }
}

/// Refuses a client tool named like the answer tool (its calls could not be told apart).
pub fn check_tool_names(tools: &[Tool<'_>]) -> Result<(), GatewayError> {
    for (i, t) in tools.iter().enumerate() {
        if t.function.as_ref().is_some_and(|f| f.name == ANSWER_TOOL) {
            return Err(GatewayError::bad_param(
                format!("tools[{i}].function.name"),
                format!(
                    "the tool name '{ANSWER_TOOL}' is reserved by the gateway for structured \
                     output (response_format) on this provider; rename the tool"
                ),
            ));
        }
    }
    Ok(())
}

/// Which tool the model must call when the answer tool is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerChoice {
    /// The answer tool (no client tools, or the client forbade calling them).
    Answer,
    /// Any tool: one of the client's, or the answer tool to finish.
    Any,
    /// The client's own choice stands (it forces one of its functions).
    Client,
}

/// The tool choice when the answer tool joins `has_client_tools` under the client's `choice`.
pub fn answer_choice(choice: Option<&ToolChoice<'_>>, has_client_tools: bool) -> AnswerChoice {
    match choice {
        _ if !has_client_tools => AnswerChoice::Answer,
        Some(ToolChoice::None) => AnswerChoice::Answer,
        Some(ToolChoice::Function(_)) => AnswerChoice::Client,
        None | Some(ToolChoice::Auto | ToolChoice::Required) => AnswerChoice::Any,
    }
}

/// The stop reason to map when the answer tool ended the turn (`answer_only`: its call was
/// the only one): Anthropic's and Bedrock's `tool_use` stop is then a finished answer,
/// `end_turn`.
pub fn answer_stop(stop_reason: Option<&str>, answer_only: bool) -> Option<&str> {
    match stop_reason {
        Some("tool_use") if answer_only => Some("end_turn"),
        other => other,
    }
}

#[cfg(test)]
mod tests;
