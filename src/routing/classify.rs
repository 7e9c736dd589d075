//! Whether a provider's 4xx says the prompt did not fit the model's context window (a failover trigger:
//! another target may have a larger window).
//!
//! Context-window phrasings, per provider (matched case-insensitively in the error body):
//! - OpenAI and OpenAI-compatible (Azure, Groq, Together, vLLM, …): `code:
//!   "context_length_exceeded"`, "This model's maximum context length is 128000 tokens. However,
//!   your messages resulted in …", vLLM "… maximum context length is … tokens. However, you
//!   requested …", Mistral "Prompt contains … tokens … too large for model with … maximum
//!   context length".
//! - Anthropic: `invalid_request_error` "prompt is too long: 208310 tokens > 200000 maximum",
//!   and "input length and `max_tokens` exceed context limit".
//! - Gemini: `INVALID_ARGUMENT` "The input token count (…) exceeds the maximum number of tokens
//!   allowed (…)".
//! - Bedrock: `ValidationException` "Input is too long for requested model", "too many input
//!   tokens", "prompt is too long" (Anthropic models).
//! - Cohere: "too many tokens: …".
//! - Ollama truncates the prompt instead of failing.

/// Lower-case phrases that mean "the prompt does not fit the context window".
const CONTEXT_PHRASES: [&str; 10] = [
    "context_length_exceeded",
    "maximum context length",
    "prompt is too long",
    "input is too long",
    "exceed context limit",
    "exceeds the maximum number of tokens",
    "too many input tokens",
    "too many tokens",
    "context window",
    "reduce the length of the messages",
];

/// Whether a provider error (`status`, body) says the prompt exceeded the context window.
/// Only 400, 413 and 422 qualify: a 5xx mentioning tokens is still a server error.
pub fn is_context_window_error(status: u16, body: &[u8]) -> bool {
    if !matches!(status, 400 | 413 | 422) {
        return false;
    }
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    CONTEXT_PHRASES.iter().any(|p| text.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real phrasings of each provider are recognised; other 400s and 5xx are not.
    #[test]
    fn context_window_phrasings() {
        let yes = [
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"}}"#,
            r#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#,
            r#"{"message":"Input is too long for requested model."}"#,
            r#"{"message":"too many tokens: total number of tokens in the prompt cannot exceed 4081"}"#,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"input length and `max_tokens` exceed context limit: 199000 + 8192 > 200000"}}"#,
        ];
        for body in yes {
            assert!(is_context_window_error(400, body.as_bytes()), "{body}");
        }
        assert!(!is_context_window_error(
            400,
            br#"{"error":{"message":"Invalid 'temperature'"}}"#
        ));
        assert!(!is_context_window_error(500, yes[0].as_bytes()));
        assert!(is_context_window_error(413, yes[1].as_bytes()));
    }
}
