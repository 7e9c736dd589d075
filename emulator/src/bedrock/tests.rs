use super::*;
use crate::bedrock::render::{exception_frame, render_json, render_stream};
use crate::directives::Directives;
use crate::scenario::plan;
use aws_smithy_eventstream::frame::read_message_from;
use pingora::http::RequestHeader;
use serde_json::json;

/// Paths route by suffix; the model id is one encoded segment.
#[test]
fn routes_and_model_ids() {
    let p = "/model/us.anthropic.claude-3-haiku-20240307-v1%3A0%23status%3D429/converse-stream";
    let (op, id) = route(p).unwrap();
    assert_eq!(op, Op::ConverseStream);
    assert_eq!(
        decode_segment(id).unwrap(),
        "us.anthropic.claude-3-haiku-20240307-v1:0#status=429"
    );
    assert_eq!(route("/x/model/m/invoke").unwrap().0, Op::Invoke);
    assert!(route("/model/m/other").is_none());
    assert!(route("/v1/chat/completions").is_none());
    assert_eq!(decode_segment("a%2"), None);
}

/// The request of the botocore-checked ConverseStream reference vector (docs/wire/bedrock.md §6.3).
fn demo_request(auth: &str) -> RequestHeader {
    let mut h = RequestHeader::build(
        "POST",
        b"/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
        None,
    )
    .unwrap();
    for (k, v) in [
        ("host", "bedrock-runtime.us-east-1.amazonaws.com"),
        ("accept", "application/vnd.amazon.eventstream"),
        ("content-type", "application/json"),
        ("x-amz-date", "20250115T120000Z"),
        ("authorization", auth),
    ] {
        h.insert_header(k, v).unwrap();
    }
    h
}

const DEMO_BODY: &[u8] =
    br#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":256}}"#;
const DEMO_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250115/us-east-1/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date, Signature=8be02f5197114aa9b48846ba45ff0761f6efb5f8b537bab363d503324bed88f1";

/// The verifier accepts botocore's signature and rejects a changed body, a wrong signing
/// name, an unknown key and a missing header, each with AWS's exception type.
#[test]
fn sigv4_verification() {
    assert_eq!(sigv4::verify(&demo_request(DEMO_AUTH), DEMO_BODY), Ok(()));
    let e = sigv4::verify(&demo_request(DEMO_AUTH), b"{}").unwrap_err();
    assert_eq!((e.status, e.kind), (403, Some("InvalidSignatureException")));
    assert!(
        e.message.contains("%253A0/converse-stream"),
        "{}",
        e.message
    );
    let wrong_service = DEMO_AUTH.replace("/bedrock/", "/bedrock-runtime/");
    let e = sigv4::verify(&demo_request(&wrong_service), DEMO_BODY).unwrap_err();
    assert!(e.message.contains("correct service"));
    let unknown = DEMO_AUTH.replace("AKIDEXAMPLE", "AKIDOTHER");
    let e = sigv4::verify(&demo_request(&unknown), DEMO_BODY).unwrap_err();
    assert_eq!(e.kind, Some("UnrecognizedClientException"));
    let mut h = demo_request(DEMO_AUTH);
    h.remove_header("authorization");
    let e = sigv4::verify(&h, DEMO_BODY).unwrap_err();
    assert_eq!(e.kind, Some("MissingAuthenticationTokenException"));
}

/// Converse validation: the real API's messages for tool blocks without toolConfig,
/// non-alternating roles, a blank text and out-of-range temperature; a valid tool round trip
/// yields the conversation facts the planner needs.
#[test]
fn converse_validation() {
    let user = |t: &str| json!({"role": "user", "content": [{"text": t}]});
    let bad = [
        (
            json!({"messages": [user("x"), {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]}]}),
            "toolConfig field must be defined",
        ),
        (
            json!({"messages": [user("a"), user("b")]}),
            "must alternate",
        ),
        (json!({"messages": [user(" ")]}), "is blank"),
        (
            json!({"messages": [user("x")], "inferenceConfig": {"temperature": 1.5}}),
            "less than or equal to 1",
        ),
        (
            json!({"messages": [user("x")], "model": "m"}),
            "extraneous key [model]",
        ),
    ];
    for (body, msg) in bad {
        let e = parse(&body).unwrap_err();
        assert_eq!((e.status, e.kind), (400, Some("ValidationException")));
        assert!(e.message.contains(msg), "{} !~ {msg}", e.message);
    }
    let conv = parse(&json!({
        "system": [{"text": "Be terse."}],
        "messages": [
            {"role": "user", "content": [{"text": "Weather?"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp": 18}}]}}]}
        ],
        "inferenceConfig": {"maxTokens": 50, "stopSequences": ["END"]},
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}], "toolChoice": {"any": {}}}
    }))
    .unwrap();
    assert_eq!(conv.images, 1);
    assert_eq!(conv.tool_result.as_deref(), Some(r#"{"temp":18}"#));
    assert_eq!(conv.tool_choice, ToolChoice::Any);
    assert_eq!((conv.max_tokens, conv.stop.len()), (Some(50), 1));
}

fn frames(stream: &[Bytes]) -> Vec<(String, Value)> {
    stream
        .iter()
        .map(|f| {
            let m = read_message_from(f.clone()).expect("valid frame with valid CRCs");
            let h = |n: &str| {
                m.headers()
                    .iter()
                    .find(|x| x.name().as_str() == n)
                    .map(|x| x.value().as_string().unwrap().as_str().to_string())
            };
            let kind = h(":event-type").or_else(|| h(":exception-type")).unwrap();
            (kind, serde_json::from_slice(m.payload()).unwrap())
        })
        .collect()
}

/// The stream is valid frames in Bedrock's order: text without a start event, tool calls
/// with one, `metadata` after `messageStop`; JSON and stream agree.
#[test]
fn stream_and_json_rendering() {
    let conv = parse(&json!({
        "messages": [{"role": "user", "content": [{"text": "Weather?"}]}],
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}}]}
    }))
    .unwrap();
    let d = Directives::parse(Some("thinking"), None).unwrap();
    let style = Style {
        tool_preamble: Some(anthropic::render::TOOL_PREAMBLE),
        thinking: true,
    };
    let p = plan(&conv, &d, style);
    let ctx = Ctx { no_usage: false };
    let f = frames(&render_stream(&p, &ctx));
    let kinds: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"messageStart"));
    assert_eq!(&kinds[kinds.len() - 2..], ["messageStop", "metadata"]);
    let starts: Vec<&Value> = f
        .iter()
        .filter(|(k, _)| k == "contentBlockStart")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0]["start"]["toolUse"]["name"], "get_weather");
    let args: String = f
        .iter()
        .filter_map(|(_, v)| v["delta"]["toolUse"]["input"].as_str())
        .collect();
    let json: Value = serde_json::from_slice(&render_json(&p, &ctx)).unwrap();
    assert_eq!(json["stopReason"], "tool_use");
    let blocks = json["output"]["message"]["content"].as_array().unwrap();
    let call = blocks.iter().find(|b| b.get("toolUse").is_some()).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        call["toolUse"]["input"]
    );
    assert!(blocks[0]["reasoningContent"]["reasoningText"]["text"].is_string());
    let e = frames(&[exception_frame("throttlingException", "slow down")]);
    assert_eq!(
        e[0],
        (
            "throttlingException".to_string(),
            json!({"message": "slow down"})
        )
    );
}

/// Titan: one vector of the requested size; Cohere: one per text, both response shapes.
#[test]
fn embeddings() {
    let t: Value = serde_json::from_slice(
        &crate::bedrock::embed::invoke(
            "amazon.titan-embed-text-v2:0",
            &json!({"inputText": "hi there", "dimensions": 256}),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(t["embedding"].as_array().unwrap().len(), 256);
    assert_eq!(t["inputTextTokenCount"], 2);
    assert!(
        crate::bedrock::embed::invoke("amazon.titan-embed-text-v1", &json!({"texts": ["a"]}))
            .is_err()
    );
    let c: Value = serde_json::from_slice(
        &crate::bedrock::embed::invoke(
            "cohere.embed-english-v3",
            &json!({"texts": ["a", "b"], "input_type": "search_document"}),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(c["embeddings"].as_array().unwrap().len(), 2);
    assert_ne!(c["embeddings"][0], c["embeddings"][1]);
    let c: Value = serde_json::from_slice(
        &crate::bedrock::embed::invoke(
            "cohere.embed-english-v3",
            &json!({"texts": ["a"], "input_type": "search_query", "embedding_types": ["float"]}),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(c["embeddings"]["float"].as_array().unwrap().len(), 1);
}
