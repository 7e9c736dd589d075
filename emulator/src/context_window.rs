//! The `context_exceeded` directive: each provider's own "prompt does not fit the context
//! window" error, as the real APIs word it, so the gateway's failover on it can be tested.

use crate::error::ApiError;

/// OpenAI: 400 `invalid_request_error`, `param: messages`, `code: context_length_exceeded`.
pub fn openai() -> ApiError {
    ApiError::bad_request(
        "This model's maximum context length is 128000 tokens. However, your messages resulted \
         in 131072 tokens. Please reduce the length of the messages. (switchyard-emulator)",
    )
    .param("messages")
    .code("context_length_exceeded")
}

/// Anthropic: 400 `invalid_request_error` "prompt is too long".
pub fn anthropic() -> ApiError {
    ApiError::bad_request(
        "prompt is too long: 208310 tokens > 200000 maximum (switchyard-emulator)",
    )
}

/// Gemini: 400 `INVALID_ARGUMENT`.
pub fn gemini() -> ApiError {
    ApiError::bad_request(
        "The input token count (1200000) exceeds the maximum number of tokens allowed \
         (1048576). (switchyard-emulator)",
    )
}

/// Cohere: 400 "too many tokens".
pub fn cohere() -> ApiError {
    ApiError::bad_request(
        "too many tokens: total number of tokens in the prompt cannot exceed 128000 - received \
         131072 (switchyard-emulator)",
    )
}

/// Ollama truncates instead of failing; the emulator answers like a too-small `num_ctx`
/// server would if it refused.
pub fn ollama() -> ApiError {
    ApiError::bad_request("input is too long for the model's context window (switchyard-emulator)")
}
