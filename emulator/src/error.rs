//! A provider-independent API error; each provider module renders it in its own wire format.

/// An error answer: HTTP status plus the fields both providers' error bodies need.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// OpenAI `param` (ignored by Anthropic).
    pub param: Option<String>,
    /// OpenAI `code` (ignored by Anthropic).
    pub code: Option<&'static str>,
    /// Explicit error `type`; `None` means the provider's default for `status`.
    pub kind: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            param: None,
            code: None,
            kind: None,
        }
    }

    /// A 400 `invalid_request_error`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
}
