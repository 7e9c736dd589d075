//! The admin API's request and response, shared by the admin listener (`admin`),
//! which authenticates and reads requests, and the APIs it serves (keys, usage).

use crate::error::GatewayError;
use bytes::Bytes;
use serde::Serialize;

/// Largest admin request body.
pub const MAX_BODY: usize = 64 * 1024;

/// An authenticated admin API request.
#[derive(Debug, Clone)]
pub struct AdminRequest {
    pub method: http::Method,
    /// The path without the query string.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The whole body (at most [`MAX_BODY`] bytes).
    pub body: Bytes,
}

/// An admin API answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

impl AdminResponse {
    /// `value` as JSON.
    pub fn json_of(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self {
                status,
                content_type: "application/json",
                body: Bytes::from(body),
            },
            Err(e) => {
                log::error!("admin: cannot serialize an answer: {e}");
                Self::error(&GatewayError::internal())
            }
        }
    }

    /// The OpenAI-shaped error body of `e`.
    pub fn error(e: &GatewayError) -> Self {
        Self {
            status: e.status,
            content_type: "application/json",
            body: e.body(),
        }
    }
}
