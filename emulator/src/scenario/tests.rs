//! Unit tests of the answer planning: tokens, truncation, stop sequences, tool calls, usage.
use super::*;

fn conv() -> Conversation {
    Conversation {
        prompt_chars: 10,
        ..Default::default()
    }
}

fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        schema: json!({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},"x":{"type":"number"}},"required":["city","days"]}),
    }
}

#[test]
fn tokenize_round_trips() {
    for t in [DEFAULT_REPLY, "  lead  and trail ", "one", "", "a\nb\tc"] {
        assert_eq!(tokenize(t).concat(), t);
    }
    assert_eq!(tokenize(DEFAULT_REPLY).len(), 11);
    assert_eq!(tokenize("a b")[0], "a ");
}

#[test]
fn default_reply_is_all_eleven_tokens() {
    let p = plan(&conv(), &Directives::default(), Style::default());
    assert_eq!(p.text.len(), 11);
    assert_eq!(p.text(), DEFAULT_REPLY);
    assert_eq!(p.finish, Finish::EndTurn);
    assert_eq!(p.usage.output_tokens, 11);
    assert_eq!(p.usage.input_tokens, 3 + 10);
}

#[test]
fn full_and_cycled_reply() {
    let d = Directives {
        tokens: Some(11),
        ..Default::default()
    };
    assert_eq!(plan(&conv(), &d, Style::default()).text(), DEFAULT_REPLY);
    let d = Directives {
        tokens: Some(13),
        ..Default::default()
    };
    let p = plan(&conv(), &d, Style::default());
    assert_eq!(p.text(), format!("{DEFAULT_REPLY} Hello from"));
    assert_eq!(p.usage.output_tokens, 13);
}

#[test]
fn max_tokens_truncates() {
    let c = Conversation {
        max_tokens: Some(3),
        ..conv()
    };
    let p = plan(&c, &Directives::default(), Style::default());
    assert_eq!(p.text(), "Hello from the ");
    assert_eq!(p.finish, Finish::MaxTokens);
    assert_eq!(p.usage.output_tokens, 3);
}

#[test]
fn stop_sequence_cuts_before_it() {
    let c = Conversation {
        stop: vec!["zzz".into(), "Switch".into(), "from".into()],
        ..conv()
    };
    let p = plan(&c, &Directives::default(), Style::default());
    assert_eq!(p.text(), "Hello ");
    assert_eq!(p.finish, Finish::StopSequence("from".into()));
    let c = Conversation {
        stop: vec!["ör".into()],
        ..conv()
    };
    let p = plan(&c, &Directives::default(), Style::default());
    assert_eq!(p.text(), "Hello from the Switchyard emulator — héllo w");
    assert_eq!(p.text.len(), 8);
}

#[test]
fn stop_beyond_max_tokens_is_length() {
    let c = Conversation {
        stop: vec!["wörld".into()],
        max_tokens: Some(2),
        ..conv()
    };
    assert_eq!(
        plan(&c, &Directives::default(), Style::default()).finish,
        Finish::MaxTokens
    );
}

#[test]
fn images_and_tool_results() {
    let c = Conversation {
        images: 2,
        ..conv()
    };
    let p = plan(&c, &Directives::default(), Style::default());
    assert!(p.text().starts_with("I see 2 image(s). Hello"));
    assert_eq!(p.usage.input_tokens, 3 + 170 + 10);
    let c = Conversation {
        tool_result: Some("x".repeat(100)),
        tools: vec![weather_tool()],
        ..conv()
    };
    let p = plan(&c, &Directives::default(), Style::default());
    assert_eq!(
        p.text(),
        format!("Tool result received: {}", "x".repeat(60))
    );
    assert!(p.tool_calls.is_empty());
}

#[test]
fn schema_driven_arguments() {
    let t = weather_tool();
    assert_eq!(
        build_args(&t.schema, false),
        json!({"city":"Paris","days":42})
    );
    assert_eq!(
        build_args(&t.schema, true),
        json!({"city":"London","days":7})
    );
    let all = json!({"properties":{"a":{"type":"boolean"},"b":{"type":"array"},"c":{"type":"object"},"d":{"type":["null","number"]},"e":{"enum":["x","y"]}}});
    assert_eq!(
        build_args(&all, false),
        // Lists get one item so nested models validate.
        json!({"a":true,"b":["example"],"c":{},"d":1.5,"e":"x"})
    );
    assert_eq!(build_args(&json!({"type":"object"}), false), json!({}));
}

#[test]
fn tool_call_plan() {
    let mut c = Conversation {
        tools: vec![weather_tool()],
        ..conv()
    };
    let style = Style {
        tool_preamble: Some("I'll use the tool."),
        thinking: false,
    };
    let p = plan(&c, &Directives::default(), style);
    assert_eq!(p.finish, Finish::ToolUse);
    assert_eq!(p.tool_calls.len(), 1);
    assert_eq!(p.tool_calls[0].arguments, r#"{"city":"Paris","days":42}"#);
    assert_eq!(p.text(), "I'll use the tool.");
    assert_eq!(p.usage.output_tokens, 4 + 26 / 4);
    let frags = p.tool_calls[0].fragments();
    assert!(frags.len() >= 3);
    assert_eq!(frags.concat(), p.tool_calls[0].arguments);

    let d = Directives {
        parallel_tools: true,
        ..Default::default()
    };
    let p = plan(&c, &d, Style::default());
    assert_eq!(p.tool_calls.len(), 2);
    assert_ne!(p.tool_calls[0].input, p.tool_calls[1].input);
    assert_ne!(p.tool_calls[0].id, p.tool_calls[1].id);

    c.tool_choice = ToolChoice::None;
    assert!(plan(&c, &d, Style::default()).tool_calls.is_empty());
    c.tool_choice = ToolChoice::Named("other".into());
    let p = plan(&c, &Directives::default(), Style::default());
    assert_eq!(p.tool_calls[0].name, "other");
    assert_eq!(p.tool_calls[0].arguments, "{}");
}

#[test]
fn thinking_counts_tokens() {
    let p = plan(
        &conv(),
        &Directives::default(),
        Style {
            tool_preamble: None,
            thinking: true,
        },
    );
    assert_eq!(p.thinking_text(), THINKING_TEXT);
    assert_eq!(p.usage.output_tokens, 11 + p.thinking.len() as u64);
}

#[test]
fn fragments_respect_char_boundaries() {
    let call = ToolCall {
        id: 1,
        name: "t".into(),
        input: json!({"c":"🚀🚀🚀"}),
        arguments: json!({"c":"🚀🚀🚀"}).to_string(),
    };
    assert_eq!(call.fragments().concat(), call.arguments);
}

/// `call=NAME` picks the offered tool of that name over the first one, and falls back to the
/// first tool when no offered tool has that name; a named `tool_choice` still wins.
#[test]
fn call_directive_picks_the_tool() {
    let read = ToolSpec {
        name: "Read".into(),
        schema: json!({"type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"]}),
    };
    let mut c = Conversation {
        tools: vec![weather_tool(), read],
        ..conv()
    };
    let d = Directives::parse(None, Some("call=Read")).unwrap();
    let p = plan(&c, &d, Style::default());
    assert_eq!(p.tool_calls[0].name, "Read");
    assert_eq!(p.tool_calls[0].arguments, r#"{"file_path":"Paris"}"#);
    let other = Directives::parse(None, Some("call=Missing")).unwrap();
    assert_eq!(
        plan(&c, &other, Style::default()).tool_calls[0].name,
        "get_weather"
    );
    c.tool_choice = ToolChoice::Named("get_weather".into());
    assert_eq!(
        plan(&c, &d, Style::default()).tool_calls[0].name,
        "get_weather"
    );
}

/// Structured output: the answer is an instance of the schema, in several fragments, and a
/// forced tool call starts without preamble text.
#[test]
fn structured_answer_is_a_schema_instance() {
    let c = Conversation {
        output_schema: Some(
            json!({"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer"}},"required":["name","n"]}),
        ),
        ..Default::default()
    };
    let p = plan(&c, &Directives::default(), Style::default());
    assert!(p.text.len() >= 3, "{:?}", p.text);
    let v: Value = serde_json::from_str(&p.text()).unwrap();
    assert_eq!(v, json!({"name":"example","n":1}));
    assert_eq!(p.finish, Finish::EndTurn);
    let forced = Conversation {
        tools: vec![ToolSpec {
            name: "json_answer".into(),
            schema: json!({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}},"required":["tags"]}),
        }],
        tool_choice: ToolChoice::Named("json_answer".into()),
        ..Default::default()
    };
    let style = Style {
        tool_preamble: Some("Let me check."),
        thinking: false,
    };
    let p = plan(&forced, &Directives::default(), style);
    assert!(p.text.is_empty());
    assert_eq!(p.tool_calls[0].input, json!({"tags":["example"]}));
}
