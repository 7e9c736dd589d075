//! Structured-output planning: native or answer tool, schema normalisation, tool choice.

use super::*;
use serde_json::json;

fn plan_of(body: Value, native: bool) -> Result<Structured, GatewayError> {
    let text = body.to_string();
    let req = ChatRequest::parse(text.as_bytes()).unwrap();
    plan(&req, native)
}

fn with_format(rf: Value) -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": rf})
}

fn schema_format(schema: Value) -> Value {
    with_format(
        json!({"type": "json_schema", "json_schema": {"name": "P", "strict": true, "schema": schema}}),
    )
}

/// Text asks for nothing; json_object and schema-less json_schema use the answer tool.
#[test]
fn text_and_json_object() {
    let none = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(plan_of(none, true).unwrap(), Structured::None);
    assert_eq!(
        plan_of(with_format(json!({"type": "text"})), true).unwrap(),
        Structured::None
    );
    for rf in [
        json!({"type": "json_object"}),
        json!({"type": "json_schema", "json_schema": {"name": "x"}}),
    ] {
        assert_eq!(
            plan_of(with_format(rf), true).unwrap(),
            Structured::Tool(json!({"type": "object"}))
        );
    }
}

/// A schema goes native (objects closed, nested ones too) only when the model takes it.
#[test]
fn native_when_the_catalog_says_so() {
    let schema = json!({"type": "object", "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "object", "properties": {"t": {"type": "string", "enum": ["a"]}}}},
        "ref": {"$ref": "#/$defs/R"}
    }, "required": ["name"], "$defs": {"R": {"type": "object", "properties": {"x": {"type": "integer"}}}}});
    let closed = json!({"type": "object", "additionalProperties": false, "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "object", "additionalProperties": false, "properties": {"t": {"type": "string", "enum": ["a"]}}}},
        "ref": {"$ref": "#/$defs/R"}
    }, "required": ["name"], "$defs": {"R": {"type": "object", "additionalProperties": false, "properties": {"x": {"type": "integer"}}}}});
    assert_eq!(
        plan_of(schema_format(schema.clone()), true).unwrap(),
        Structured::Native(closed)
    );
    assert_eq!(
        plan_of(schema_format(schema.clone()), false).unwrap(),
        Structured::Tool(schema)
    );
}

/// A property named like a keyword is a name, not a keyword.
#[test]
fn property_names_are_not_keywords() {
    let schema = json!({"type": "object", "properties": {"minimum": {"type": "number"}}});
    assert!(matches!(
        plan_of(schema_format(schema), true).unwrap(),
        Structured::Native(_)
    ));
}

/// Keywords native output refuses send the schema, unchanged, by answer tool instead.
#[test]
fn unsupported_keywords_fall_back_to_the_tool() {
    for extra in [
        json!({"type": "integer", "minimum": 1}),
        json!({"type": "string", "maxLength": 3}),
        json!({"type": "array", "items": {"type": "string"}, "minItems": 2}),
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
    ] {
        let schema = json!({"type": "object", "properties": {"x": extra}});
        assert_eq!(
            plan_of(schema_format(schema.clone()), true).unwrap(),
            Structured::Tool(schema)
        );
    }
}

/// A schema whose root is not an object is refused with its JSON path.
#[test]
fn root_must_be_an_object() {
    let e = plan_of(schema_format(json!({"type": "array", "items": {}})), false).unwrap_err();
    assert_eq!(e.status, 400);
    assert_eq!(
        e.param.as_deref(),
        Some("response_format.json_schema.schema.type")
    );
    let e = plan_of(with_format(json!({"type": "xml"})), false).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("response_format"));
    // A missing root type means object.
    assert_eq!(
        plan_of(schema_format(json!({"properties": {}})), false).unwrap(),
        Structured::Tool(json!({"type": "object", "properties": {}}))
    );
}

/// The answer tool's choice follows the client's tools and tool_choice.
#[test]
fn choices() {
    let f = ToolChoice::Function("f".into());
    assert_eq!(answer_choice(None, false), AnswerChoice::Answer);
    assert_eq!(answer_choice(Some(&f), false), AnswerChoice::Answer);
    assert_eq!(answer_choice(None, true), AnswerChoice::Any);
    assert_eq!(
        answer_choice(Some(&ToolChoice::Required), true),
        AnswerChoice::Any
    );
    assert_eq!(
        answer_choice(Some(&ToolChoice::None), true),
        AnswerChoice::Answer
    );
    assert_eq!(answer_choice(Some(&f), true), AnswerChoice::Client);
    assert_eq!(answer_stop(Some("tool_use"), true), Some("end_turn"));
    assert_eq!(answer_stop(Some("tool_use"), false), Some("tool_use"));
    assert_eq!(answer_stop(Some("max_tokens"), true), Some("max_tokens"));
}

/// A client tool named like the answer tool is refused by name.
#[test]
fn reserved_name() {
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [
        {"type": "function", "function": {"name": "ok"}},
        {"type": "function", "function": {"name": ANSWER_TOOL}}
    ]})
    .to_string();
    let req = ChatRequest::parse(body.as_bytes()).unwrap();
    let e = check_tool_names(&req.tools().unwrap()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("tools[1].function.name"));
}

/// A recursive schema cannot go native: the answer tool carries it; a dangling reference is
/// refused by path.
#[test]
fn recursive_schemas_use_the_tool() {
    let schema = json!({"type": "object", "properties": {"child": {"$ref": "#"}}});
    assert_eq!(
        plan_of(schema_format(schema.clone()), true).unwrap(),
        Structured::Tool(schema)
    );
    let dangling = json!({"type": "object", "properties": {"x": {"$ref": "#/$defs/Nope"}}});
    let e = plan_of(schema_format(dangling), true).unwrap_err();
    assert_eq!(
        e.param.as_deref(),
        Some("response_format.json_schema.schema.properties.x.$ref")
    );
}
