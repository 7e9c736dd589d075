//! SigV4 request signing for Bedrock Runtime (docs/wire/bedrock.md §6), done by the `aws-sigv4`
//! crate: signing name `bedrock` (the host is `bedrock-runtime.<region>`), the SHA-256 of the
//! exact body bytes, `x-amz-date`, `x-amz-security-token` for temporary credentials, and the
//! double-encoded canonical URI of non-S3 services (`%3A` on the wire is signed as `%253A`).

use crate::error::{ErrorKind, GatewayError};
use crate::providers::settings::AwsCredentials;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderName, HeaderValue};
use std::time::SystemTime;

/// Bedrock's SigV4 signing name.
pub const SERVICE: &str = "bedrock";

/// What to sign: one HTTP request exactly as it goes on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Signable<'a> {
    pub method: &'a str,
    /// `Host` header value (`host` or `host:port`).
    pub authority: &'a str,
    /// Path (already percent-encoded as sent) and query.
    pub path: &'a str,
    /// Other headers to sign besides `host`, with the values that will be sent.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Signs `req` at `time` and returns the headers to add (`authorization`, `x-amz-date`,
/// and `x-amz-security-token` when the credentials carry a session token).
pub fn sign_request(
    creds: &AwsCredentials,
    region: &str,
    service: &str,
    time: SystemTime,
    req: &Signable<'_>,
) -> Result<Vec<(HeaderName, HeaderValue)>, GatewayError> {
    let identity: Identity = Credentials::new(
        creds.access_key_id.expose(),
        creds.secret_access_key.expose(),
        creds.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "switchyard-config",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing_failed(&e))?
        .into();
    let url = format!("https://{}{}", req.authority, req.path);
    let headers = std::iter::once(("host", req.authority)).chain(req.headers.iter().copied());
    let signable = SignableRequest::new(req.method, url, headers, SignableBody::Bytes(req.body))
        .map_err(|e| signing_failed(&e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| signing_failed(&e))?
        .into_parts();
    instructions
        .headers()
        .map(|(name, value)| {
            Ok((
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| signing_failed(&e))?,
                HeaderValue::from_str(value).map_err(|e| signing_failed(&e))?,
            ))
        })
        .collect()
}

fn signing_failed(e: &dyn std::fmt::Display) -> GatewayError {
    log::error!("SigV4 signing failed: {e}");
    GatewayError::new(
        500,
        ErrorKind::Internal,
        "the gateway could not sign the Bedrock request",
    )
}

#[cfg(test)]
mod tests;
