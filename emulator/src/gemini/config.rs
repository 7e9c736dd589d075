//! Gemini request configuration: function declarations (schemas checked against Gemini's
//! OpenAPI subset), `toolConfig` and `generationConfig`.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::gemini::{bad, check_keys};
use crate::scenario::{Conversation, ToolChoice, ToolSpec};

const GEN_KEYS: &[&str] = &[
    "temperature",
    "topP",
    "topK",
    "candidateCount",
    "maxOutputTokens",
    "stopSequences",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "thinkingConfig",
    "mediaResolution",
    "speechConfig",
];
/// Keywords of Gemini's OpenAPI-subset `Schema` (anything else is an unknown field).
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

fn check_schema(s: &Value, at: &str) -> Result<(), ApiError> {
    let Some(obj) = s.as_object() else {
        return Ok(());
    };
    check_keys(obj, SCHEMA_KEYS, at)?;
    for (k, v) in obj
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        check_schema(v, &format!("{at}.properties[{k}].value"))?;
    }
    if let Some(items) = obj.get("items") {
        check_schema(items, &format!("{at}.items"))?;
    }
    for (n, a) in obj
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_schema(a, &format!("{at}.any_of[{n}]"))?;
    }
    Ok(())
}

/// Lower-cases OpenAPI type names so the scenario's argument builder understands them.
fn lower_types(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(t)) = m.get_mut("type") {
                *t = t.to_ascii_lowercase();
            }
            m.values_mut().for_each(lower_types);
        }
        Value::Array(a) => a.iter_mut().for_each(lower_types),
        _ => {}
    }
}

pub fn tools(v: Option<&Value>) -> Result<Vec<ToolSpec>, ApiError> {
    let mut out = Vec::new();
    for (i, group) in v
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (j, f) in group
            .get("functionDeclarations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("tools[{i}].function_declarations[{j}]");
            let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                return Err(bad(format!(
                    "* GenerateContentRequest.{at}.name: Name cannot be empty.\n"
                )));
            }
            let schema = match (f.get("parameters"), f.get("parametersJsonSchema")) {
                (Some(_), Some(_)) => {
                    return Err(bad(format!(
                        "* GenerateContentRequest.{at}: parameters and parameters_json_schema are mutually exclusive.\n"
                    )));
                }
                (Some(p), None) => {
                    check_schema(p, &format!("{at}.parameters"))?;
                    let empty_object = p
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("object"))
                        && p.get("properties")
                            .and_then(Value::as_object)
                            .is_some_and(serde_json::Map::is_empty);
                    if empty_object {
                        return Err(bad(format!(
                            "* GenerateContentRequest.{at}.parameters.properties: should be non-empty for OBJECT type\n"
                        )));
                    }
                    let mut p = p.clone();
                    lower_types(&mut p);
                    p
                }
                (None, Some(p)) => p.clone(),
                (None, None) => json!({"type": "object", "properties": {}}),
            };
            out.push(ToolSpec {
                name: name.to_owned(),
                schema,
            });
        }
    }
    Ok(out)
}

pub fn tool_choice(v: Option<&Value>) -> Result<ToolChoice, ApiError> {
    let Some(cfg) = v.and_then(|v| v.get("functionCallingConfig")) else {
        return Ok(ToolChoice::Auto);
    };
    let names: Vec<&str> = cfg
        .get("allowedFunctionNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mode = cfg.get("mode").and_then(Value::as_str).unwrap_or("AUTO");
    if !names.is_empty() && mode != "ANY" {
        return Err(bad(
            "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: only allowed when mode is ANY.\n",
        ));
    }
    match mode {
        "AUTO" | "MODE_UNSPECIFIED" | "VALIDATED" => Ok(ToolChoice::Auto),
        "NONE" => Ok(ToolChoice::None),
        "ANY" if names.len() == 1 => Ok(ToolChoice::Named(names[0].to_owned())),
        "ANY" => Ok(ToolChoice::Any),
        other => Err(bad(format!(
            "Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), \"{other}\""
        ))),
    }
}

pub fn generation(g: &Value, conv: &mut Conversation) -> Result<(), ApiError> {
    let obj = g
        .as_object()
        .ok_or_else(|| bad("Invalid value at 'generation_config'"))?;
    check_keys(obj, GEN_KEYS, "generation_config")?;
    if let Some(t) = obj.get("temperature") {
        let t = t
            .as_f64()
            .ok_or_else(|| bad("Invalid value at 'generation_config.temperature' (TYPE_FLOAT)"))?;
        if !(0.0..=2.0).contains(&t) {
            return Err(bad(format!(
                "* GenerateContentRequest.generation_config.temperature: temperature must be in the range [0.0, 2.0], got {t}\n"
            )));
        }
    }
    if let Some(m) = obj.get("maxOutputTokens") {
        let m = m.as_u64().filter(|m| *m >= 1).ok_or_else(|| {
            bad("* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.\n")
        })?;
        conv.max_tokens = Some(m);
    }
    if let Some(s) = obj.get("stopSequences") {
        let list = s
            .as_array()
            .ok_or_else(|| bad("Invalid value at 'generation_config.stop_sequences'"))?;
        if list.len() > 5 {
            return Err(bad(
                "* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences are allowed.\n",
            ));
        }
        conv.stop = list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    if obj.get("responseMimeType").and_then(Value::as_str) == Some("application/json") {
        conv.output_schema = Some(
            obj.get("responseSchema")
                .or_else(|| obj.get("responseJsonSchema"))
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"})),
        );
    }
    Ok(())
}
