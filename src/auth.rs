//! Reading the key a caller presents: `Authorization: Bearer <key>` (or `x-api-key`). Verification against the key directory
//! is in `keys::KeyDirectory::authenticate`.

use crate::error::GatewayError;
use pingora::http::RequestHeader;

/// The key from `Authorization: Bearer …`, else from `x-api-key`.
pub fn presented_key(header: &RequestHeader) -> Result<&[u8], GatewayError> {
    if let Some(v) = header.headers.get(http::header::AUTHORIZATION) {
        return bearer(v.as_bytes()).ok_or_else(|| {
            GatewayError::unauthorized(
                "Malformed Authorization header; expected `Authorization: Bearer <key>`.",
            )
        });
    }
    if let Some(v) = header.headers.get("x-api-key") {
        return Ok(v.as_bytes().trim_ascii());
    }
    Err(GatewayError::unauthorized(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    ))
}

/// The token of a `Bearer <token>` header value (scheme case-insensitive, token trimmed).
pub fn bearer(value: &[u8]) -> Option<&[u8]> {
    value
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case(b"bearer "))
        .and_then(|_| value.get(7..))
        .map(<[u8]>::trim_ascii)
}
