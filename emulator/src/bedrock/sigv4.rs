//! SigV4 verification of Bedrock requests, written independently of the gateway's signer
//! (which uses the `aws-sigv4` crate), so the emulator proves the gateway signs the way AWS
//! checks: canonical request with the double-encoded URI of non-S3 services, string to sign,
//! `AWS4` HMAC key chain, signing name `bedrock` (docs/wire/bedrock.md, SigV4).
//!
//! The emulator knows one key pair, AWS's documentation example: access key [`ACCESS_KEY`],
//! secret [`SECRET_KEY`]. Failures answer like AWS: 403 `MissingAuthenticationTokenException`,
//! `UnrecognizedClientException` (unknown key) or `InvalidSignatureException` (with the
//! canonical request and string to sign the emulator expected, as AWS does).

use hmac::{Hmac, KeyInit, Mac};
use pingora::http::RequestHeader;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The one access key id the emulator accepts.
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
/// Its secret (AWS's documentation example, not a real credential).
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// Bedrock Runtime's signing name.
const SERVICE: &str = "bedrock";

fn denied(kind: &'static str, message: impl Into<String>) -> ApiError {
    let mut e = ApiError::new(403, message);
    e.kind = Some(kind);
    e
}

fn header<'a>(h: &'a RequestHeader, name: &str) -> Option<&'a str> {
    h.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, PartialEq)]
pub struct Authorization<'a> {
    pub access_key: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

/// Parses the `Authorization` header.
pub fn parse_authorization(v: &str) -> Option<Authorization<'_>> {
    let rest = v.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for item in rest.split(',') {
        let (k, v) = item.trim().split_once('=')?;
        match k {
            "Credential" => cred = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => {}
        }
    }
    let mut scope = cred?.split('/');
    let auth = Authorization {
        access_key: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed?,
        signature: sig?,
    };
    (scope.next() == Some("aws4_request")).then_some(auth)
}

/// URI-encodes every byte but the unreserved ones (`A-Za-z0-9-_.~`).
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(msg.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// The canonical request for the request as received: each segment of the (already encoded)
/// wire path is encoded again, query pairs sorted, the signed headers with trimmed values.
pub fn canonical_request(
    method: &str,
    raw_path: &str,
    query: &str,
    signed_headers: &str,
    value_of: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<String, String> {
    let uri: Vec<String> = raw_path.split('/').map(uri_encode).collect();
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let v = value_of(name).ok_or_else(|| format!("signed header {name} is missing"))?;
        let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
        headers.push_str(&format!("{name}:{v}\n"));
    }
    Ok(format!(
        "{method}\n{}\n{}\n{headers}\n{signed_headers}\n{}",
        uri.join("/"),
        query.join("&"),
        hex(&Sha256::digest(body))
    ))
}

/// The expected signature of `canonical` for a scope (`date`/`region`/`service`) and time.
pub fn signature(
    secret: &str,
    amz_date: &str,
    auth: &Authorization<'_>,
    canonical: &str,
) -> (String, String) {
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), auth.date);
    for part in [auth.region, auth.service, "aws4_request"] {
        key = hmac(&key, part);
    }
    (hex(&hmac(&key, &sts)), sts)
}

/// Verifies the request's SigV4 signature over `body`.
pub fn verify(h: &RequestHeader, body: &[u8]) -> Result<(), ApiError> {
    let Some(raw) = header(h, "authorization") else {
        return Err(denied(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let auth = parse_authorization(raw).ok_or_else(|| {
        denied(
            "IncompleteSignatureException",
            format!("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={raw}"),
        )
    })?;
    if auth.access_key != ACCESS_KEY {
        return Err(denied(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    if auth.service != SERVICE {
        return Err(denied(
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{SERVICE}'."),
        ));
    }
    if !auth.signed_headers.split(';').any(|n| n == "host") {
        return Err(denied(
            "InvalidSignatureException",
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let amz_date = header(h, "x-amz-date").unwrap_or_default();
    if amz_date.get(..8) != Some(auth.date) {
        return Err(denied(
            "InvalidSignatureException",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{amz_date}'",
                auth.date
            ),
        ));
    }
    let value_of = |name: &str| {
        let all: Vec<&str> = h
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!all.is_empty()).then(|| all.join(","))
    };
    let canonical = canonical_request(
        h.method.as_str(),
        h.uri.path(),
        h.uri.query().unwrap_or(""),
        auth.signed_headers,
        &value_of,
        body,
    )
    .map_err(|m| denied("InvalidSignatureException", m))?;
    let (expected, sts) = signature(SECRET_KEY, amz_date, &auth, &canonical);
    if expected != auth.signature {
        return Err(denied(
            "InvalidSignatureException",
            format!(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{sts}'\n"
            ),
        ));
    }
    Ok(())
}
