use super::*;
use crate::config::Secret;
use crate::providers::bedrock::{model_path, signed_request_at};
use crate::providers::settings::ProviderKind;
use crate::providers::testutil::provider;
use std::time::{Duration, UNIX_EPOCH};

fn creds(token: Option<&str>) -> AwsCredentials {
    AwsCredentials {
        access_key_id: Secret::new("AKIDEXAMPLE".into()),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
        session_token: token.map(|t| Secret::new(t.into())),
    }
}

fn header<'a>(h: &'a [(HeaderName, HeaderValue)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// 2015-08-30T12:36:00Z, the time of the AWS SigV4 test suite.
fn suite_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

/// AWS's published aws-sig-v4-test-suite case "get-vanilla" (docs/wire/bedrock.md §6.2).
#[test]
fn aws_test_suite_get_vanilla() {
    let h = sign_request(
        &creds(None),
        "us-east-1",
        "service",
        suite_time(),
        &Signable {
            method: "GET",
            authority: "example.amazonaws.com",
            path: "/",
            headers: &[],
            body: b"",
        },
    )
    .unwrap();
    assert_eq!(header(&h, "x-amz-date"), "20150830T123600Z");
    assert_eq!(
        header(&h, "authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

/// 2025-01-15T12:00:00Z, the time of the botocore-verified examples.
fn botocore_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_736_942_400)
}

/// The whole build path (Converse body, encoded path, signed headers) reproduces the
/// botocore-checked ConverseStream reference vector of docs/wire/bedrock.md §6.3.
#[test]
fn converse_stream_request_matches_botocore() {
    let mut p = provider(ProviderKind::Bedrock);
    p.endpoint.authority = "bedrock-runtime.us-east-1.amazonaws.com".into();
    let body = br#"{"model":"x","messages":[{"role":"user","content":"Hello"}],"max_tokens":256,"stream":true}"#;
    let req = crate::translate::request::ChatRequest::parse(body).unwrap();
    let converse =
        crate::providers::bedrock::request::converse_body(&p, &req, "anthropic.claude-3-haiku")
            .unwrap()
            .body;
    assert_eq!(
        String::from_utf8(converse.clone()).unwrap(),
        r#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":256}}"#
    );
    let path = model_path(
        "",
        "anthropic.claude-3-haiku-20240307-v1:0",
        "converse-stream",
    );
    assert_eq!(
        path,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    );
    let up = signed_request_at(
        &p,
        path,
        converse,
        super::super::EVENT_STREAM,
        botocore_time(),
    )
    .unwrap();
    assert_eq!(header(&up.headers, "x-amz-date"), "20250115T120000Z");
    assert_eq!(
        header(&up.headers, "authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250115/us-east-1/bedrock/aws4_request, \
         SignedHeaders=accept;content-type;host;x-amz-date, \
         Signature=8be02f5197114aa9b48846ba45ff0761f6efb5f8b537bab363d503324bed88f1"
    );
    assert_eq!(
        header(&up.headers, "accept"),
        "application/vnd.amazon.eventstream"
    );
}

/// An ARN model id (`:` and `/` encoded once on the wire, twice in the canonical URI) with a
/// session token: the second reference vector of docs/wire/bedrock.md §6.3, checked against
/// botocore's SigV4Auth (same request, same frozen clock).
#[test]
fn arn_model_with_session_token_matches_botocore() {
    let mut p = provider(ProviderKind::Bedrock);
    p.region = "us-west-2".into();
    p.endpoint.authority = "bedrock-runtime.us-west-2.amazonaws.com".into();
    p.aws = Some(creds(Some("SESSIONTOKENEXAMPLE")));
    let model = "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0";
    let path = model_path("", model, "converse");
    assert_eq!(
        path,
        "/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    let body = br#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":4096}}"#;
    let up =
        signed_request_at(&p, path, body.to_vec(), "application/json", botocore_time()).unwrap();
    assert_eq!(
        header(&up.headers, "x-amz-security-token"),
        "SESSIONTOKENEXAMPLE"
    );
    assert_eq!(
        header(&up.headers, "authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250115/us-west-2/bedrock/aws4_request, \
         SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, \
         Signature=fc896195eef2461f7f955c744e88865380780aebf1758c3a8acae90aa6ca3b25"
    );
    // The body is sent exactly as signed.
    assert_eq!(&up.body[..], &body[..]);
}
